"""The hibari worker: a child process that owns onnxruntime and hibari's voice models.

Requests are `attune.speech.engines.packaged_worker`'s. A voice is loaded from the model file the
parent names (`Hibari(voice, model=PATH)`), so hibari never downloads anything here.
"""

from __future__ import annotations

import sys

from attune.speech.engines.packaged_worker import run


def _hello() -> dict:
    import importlib.metadata

    import hibari  # noqa: F401 - fails here, clearly, when hibari-tts is missing
    import onnxruntime

    return {"hibari-tts": importlib.metadata.version("hibari-tts"), "onnxruntime": onnxruntime.__version__}


def _load(request: dict):
    from hibari import Hibari

    if not request.get("model"):
        raise FileNotFoundError(f"the voice {request.get('voice')} is not downloaded")
    # One onnxruntime thread: the parent runs one worker per core, each on its own sentence.
    tts = Hibari(voice=request["voice"], model=request["model"], threads=1)

    def speak(text: str, speed: float, pitch: float | None):
        # seed=0: the same sentence gives the same samples (the cache and golden checks rely on it).
        return tts(text, speed=speed, seed=0), int(tts.sample_rate)

    return speak


if __name__ == "__main__":
    sys.exit(run(_hello, _load, "pip install 'attune[voices]'"))
