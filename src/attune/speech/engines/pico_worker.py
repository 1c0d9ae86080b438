"""The SVOX Pico worker: a child process that owns py-nanotts's native library.

Requests are `attune.speech.engines.packaged_worker`'s. Pico reads `<…>` in its input as markup, so
angle brackets in a sentence are spoken as the pause they stand for, not parsed.
"""

from __future__ import annotations

import sys

from attune.speech.engines.packaged_worker import run


def _hello() -> dict:
    import importlib.metadata

    import py_nanotts  # noqa: F401 - fails here, clearly, when py-nanotts is missing

    return {"py-nanotts": importlib.metadata.version("py-nanotts")}


def _load(request: dict):
    import numpy as np
    from py_nanotts import NanoTTS

    tts, voice = NanoTTS(), str(request["voice"])
    tts.speak("a", voice=voice)  # an unknown or broken voice fails here, as a voice problem

    def speak(text: str, speed: float, pitch: float | None, stretch: float):
        clean = text.replace("<", " ").replace(">", " ")
        pcm = tts.speak(clean, voice=voice, speed=speed, pitch=pitch)
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, 16000

    return speak


if __name__ == "__main__":
    sys.exit(run(_hello, _load, "pip install 'attune[voices]'"))
