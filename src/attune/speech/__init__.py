"""Speech: engines behind one `Synthesizer` seam, each in a worker process, and the clip cache.

engines/   one file per engine (pyttsx3 and its espeak-ng library, piper, hibari, pico, recording), behind engines/base.py
recording/ a practitioner's take: decoded, recognised, aligned with the script, cut, cleaned
worker.py  the parent's side of an engine's worker process: start, time limits, stop
clips.py   what an engine wrote, validated, trimmed and resampled
cache.py   clips on disk, keyed by engine, voice, rate, pitch and text
voices.py  turning `--voice` into one engine voice id
keys.py    where the cache keeps a clip (light: `attune check` reads cached lengths)
parallel.py  several workers of one engine, for a cold render on every core
listing.py `attune voices`: every voice an engine has
speakers.py  one speech cache per engine, for tracks whose sections change engine
voicing.py each section's voice and bed resolved, and every sentence spoken
wishes.py  a teacher's words for a voice (female, es, en-GB, heart), and whether a voice grants them
catalog.py every voice of every installed neural engine, best first, and what an extra would add
choice.py  the voice chosen from those words, and a voice that does not speak the script's language named
"""
