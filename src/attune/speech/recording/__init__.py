"""A practitioner's own reading as the voice (the `recording` engine, issue 23).

clean.py      the take's clean-up before it is cut and mixed (declick, high-pass, hum, denoise): `--clean none|light|full`

Light to import: numpy, scipy and the denoiser are loaded by the functions that need them.
"""
