"""The worker side of a packaged engine (hibari, SVOX Pico): the requests they share.

Protocol (see `attune.speech.worker`): one JSON object per line on stdin, one reply per line on stdout.
    {"op": "hello"}                                   -> {"ok": true, "versions": {...}}
    {"op": "synth", "text", "voice", "language", "model", "speed", "pitch", "path"[, "stretch"]}
                                                      -> {"ok": true, "sample_rate_hz": N} | {"ok": false, "error", "kind"}
    {"op": "pace", "texts", "voice", "language", "model", "speed", "pitch"}
                                                      -> {"ok": true, "spoken_s": [...]} (seconds of spoken span per text)
A voice that cannot be loaded is answered with `"kind": "voice"`. Each voice is loaded once per worker.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from typing import Any

from attune.speech.engines.protocol import Stop, open_protocol, serve

#: (text, speed, pitch, stretch) -> (float32 samples in -1..1, sample rate). `stretch` (1: none) is the
#: factor a stepped engine (hibari) lengthens its frames by after its speed's step.
Speaker = Callable[[str, float, "float | None", float], tuple[Any, int]]


def run(hello: Callable[[], dict], load: Callable[[dict], Speaker], install_hint: str) -> int:
    """Serve requests: `hello()` imports the engine (ImportError: not installed) and says its versions;
    `load(request)` loads the voice the request names and returns how to speak with it."""
    protocol = open_protocol()
    speakers: dict[str, Speaker] = {}
    started = False

    def handle(request: dict) -> dict:
        nonlocal started
        op = request.get("op")
        if op == "hello":
            try:
                versions = hello()
            except ImportError as exc:
                raise Stop({"ok": False, "error": f"the engine is not installed ({exc})", "hint": install_hint}) from None
            started = True
            return {"ok": True, "versions": versions}
        if not started:
            return {"ok": False, "error": "the worker was not started"}
        if op not in ("synth", "pace"):
            return {"ok": False, "error": f"unknown op {op!r}"}
        name = str(request.get("voice"))
        speak = speakers.get(name)
        if speak is None:
            try:
                speak = speakers[name] = load(request)
            except Exception as exc:
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return {"ok": False, "kind": "voice", "error": f"{type(exc).__name__}: {message}"}
        speed, pitch = float(request.get("speed") or 1.0), request.get("pitch")
        if op == "pace":
            from attune.speech.clips import spoken_span_s

            spoken = []
            for text in request["texts"]:
                samples, rate_hz = speak(text, speed, pitch, 1.0)
                spoken.append(spoken_span_s(samples, rate_hz))
            return {"ok": True, "spoken_s": spoken}
        import numpy as np

        samples, rate_hz = speak(request["text"], speed, pitch, float(request.get("stretch") or 1.0))
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        with wave.open(request["path"], "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate_hz)
            out.writeframes(pcm.tobytes())
        return {"ok": True, "sample_rate_hz": rate_hz}

    return serve(protocol, handle)
