"""Helpers shared by the tests: measurement (audio.py) and stand-ins (fakes.py)."""
