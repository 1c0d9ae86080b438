"""Speech: engines behind one `Synthesizer` seam, each in a worker process, and the clip cache.

engines/   one file per engine (pyttsx3, and its espeak-ng library), behind engines/base.py
worker.py  the parent's side of an engine's worker process: start, time limits, stop
clips.py   what an engine wrote, validated, trimmed and resampled
cache.py   clips on disk, keyed by engine, voice, rate, pitch and text
voices.py  turning `--voice` into one engine voice id
"""
