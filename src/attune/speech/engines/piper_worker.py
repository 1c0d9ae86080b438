"""The Piper worker: a child process that owns onnxruntime and the Piper voice models.

onnxruntime is loaded here and nowhere else (never in the parent, never in a batch's forkserver).
Each model is loaded once per worker and kept: a batch worker's later tracks reuse it.

Protocol (see `attune.speech.worker`): one JSON object per line on stdin, one reply per line on stdout.
    {"op": "hello", "threads": 1}               -> {"ok": true, "piper": "1.3.0", "onnxruntime": "1.22.0"}
    {"op": "synth", "text", "model", "config", "length_scale", "speaker", "path"}
                                                -> {"ok": true, "sample_rate_hz": 22050} | {"ok": false, "error", "kind"}
    {"op": "pace", "model", "config", "speaker", "texts", "length_scale"}
                                                -> {"ok": true, "spoken_s": [...]} (seconds of spoken span per text)
A model that cannot be loaded is answered with `"kind": "voice"`.
"""

from __future__ import annotations

import json
import sys
import wave

from attune.speech.engines.protocol import Stop, open_protocol, serve


class _Voices:
    """Loaded models by path, each loaded on first use."""

    def __init__(self, threads: int):
        self.threads = threads
        self.loaded: dict[str, object] = {}

    def get(self, model: str, config: str):
        voice = self.loaded.get(model)
        if voice is None:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            options = onnxruntime.SessionOptions()
            # One thread per worker: the parent runs one worker per core, each on its own sentence.
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            with open(config, encoding="utf-8") as handle:
                piper_config = PiperConfig.from_dict(json.load(handle))
            session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
            voice = PiperVoice(session=session, config=piper_config)
            self.loaded[model] = voice
        return voice


def _speak(voice, text: str, length_scale: float | None, speaker: int | None):
    """The sentence as float32 samples; Piper's sentences within it joined by a quarter second of silence."""
    import numpy as np
    from piper import SynthesisConfig

    # normalize_audio=False: Attune measures and sets the voice's loudness itself.
    config = SynthesisConfig(speaker_id=speaker, length_scale=length_scale, normalize_audio=False)
    gap = np.zeros(int(voice.config.sample_rate * 0.25), dtype=np.float32)
    parts: list = []
    for chunk in voice.synthesize(text, syn_config=config):
        if parts:
            parts.append(gap)
        parts.append(chunk.audio_float_array)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def main() -> int:
    protocol = open_protocol()
    voices: _Voices | None = None

    def handle(request: dict) -> dict:
        nonlocal voices
        op = request.get("op")
        if op == "hello":
            try:
                import importlib.metadata

                import onnxruntime
                import piper  # noqa: F401 - fails here, clearly, when piper-tts is missing
            except ImportError as exc:
                raise Stop({"ok": False, "error": f"the piper engine is not installed ({exc})", "hint": "pip install 'attune[piper]'"}) from None
            voices = _Voices(max(1, int(request.get("threads", 1))))
            return {"ok": True, "piper": importlib.metadata.version("piper-tts"), "onnxruntime": onnxruntime.__version__}
        if voices is None:
            return {"ok": False, "error": "the worker was not started"}
        if op not in ("synth", "pace"):
            return {"ok": False, "error": f"unknown op {op!r}"}
        try:
            voice = voices.get(request["model"], request["config"])
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return {"ok": False, "kind": "voice", "error": f"{type(exc).__name__}: {message}"}
        speaker = request.get("speaker")
        if op == "pace":
            from attune.speech.clips import spoken_span_s

            spoken = [spoken_span_s(_speak(voice, text, request.get("length_scale"), speaker), voice.config.sample_rate) for text in request["texts"]]
            return {"ok": True, "spoken_s": spoken}
        import numpy as np

        samples = _speak(voice, request["text"], request.get("length_scale"), speaker)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
        with wave.open(request["path"], "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(voice.config.sample_rate)
            out.writeframes(pcm.tobytes())
        return {"ok": True, "sample_rate_hz": voice.config.sample_rate}

    return serve(protocol, handle)


if __name__ == "__main__":
    sys.exit(main())
