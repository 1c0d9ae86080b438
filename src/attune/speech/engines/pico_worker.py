"""The SVOX Pico worker: a child process that owns py-nanotts's native library.

Requests are `attune.speech.engines.packaged_worker`'s. Pico reads `<…>` in its input as markup, so
angle brackets in a sentence are spoken as the pause they stand for, not parsed.

py-nanotts 0.1.1 builds a fresh Pico system in a 2.5 MB `malloc` for every call, and Pico reads some
of that memory before writing it: the same sentence at the same speed came out up to 11% longer or
shorter depending on what the process had allocated before (at speed 1.0, 67,840 samples on fresh
memory, 60,288 after a few calls with numpy in between; at 1.5, 50,304, 45,952 or 40,896). So the
pace measured in one worker was not the pace of a render in another, and a cache key did not fix the
samples. glibc hands out fresh (zeroed) pages for an allocation above its mmap threshold, but raises
that threshold after the first such block is freed; fixing it (`mallopt(M_MMAP_THRESHOLD)`) gives
every call zeroed memory, and Pico the same output for the same request, whatever came before.
"""

from __future__ import annotations

import sys

from attune.speech.engines.packaged_worker import run

#: glibc's mallopt parameter number for the mmap threshold (malloc.h).
_M_MMAP_THRESHOLD = -3
#: Blocks this size and above come from fresh zeroed pages (py-nanotts asks 2.5 MB per call).
_FRESH_PAGES_BYTES = 1 << 20


def fresh_memory_per_call() -> bool:
    """Make each of Pico's 2.5 MB work areas fresh zeroed memory (glibc); False where that is not available."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): the allocator decides
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _FRESH_PAGES_BYTES))


def speed_level(speed: float) -> float:
    """The speed to hand py-nanotts so that Pico gets the nearest whole percent: py-nanotts writes
    `<speed level="ceil(speed * 100)">`, which rounds up (and 1.28 * 100 is 128.00000000000003: 129)."""
    return (round(speed * 100.0) - 0.5) / 100.0


def _hello() -> dict:
    import importlib.metadata

    import py_nanotts  # noqa: F401 - fails here, clearly, when py-nanotts is missing

    fresh_memory_per_call()  # before Pico's first call
    return {"py-nanotts": importlib.metadata.version("py-nanotts")}


def _load(request: dict):
    import numpy as np
    from py_nanotts import NanoTTS

    tts, voice = NanoTTS(), str(request["voice"])
    tts.speak("a", voice=voice)  # an unknown or broken voice fails here, as a voice problem

    def speak(text: str, speed: float, pitch: float | None, stretch: float):
        clean = text.replace("<", " ").replace(">", " ")
        pcm = tts.speak(clean, voice=voice, speed=speed_level(speed), pitch=pitch)
        return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, 16000

    return speak


if __name__ == "__main__":
    sys.exit(run(_hello, _load, "pip install 'attune[voices]'"))
