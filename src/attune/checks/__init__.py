"""Checks: what `attune check`, `attune batch --dry-run` and `attune doctor` report, nothing rendered.

script.py    a script's settings, lengths and voices, and the checks every file shares
roster.py    a roster's clients and tracks, each track checked as a script would be
doctor.py    the installation: Python, ffmpeg, the speech engines and their voices
"""
