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
import os
import sys
import wave


def _reply(stream, payload: dict) -> None:
    stream.write(json.dumps(payload) + "\n")
    stream.flush()


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
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything a library prints stays off the protocol
    voices: _Voices | None = None
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            _reply(protocol, {"ok": False, "error": "bad request"})
            continue
        op = request.get("op")
        try:
            if op == "hello":
                try:
                    import importlib.metadata

                    import onnxruntime
                    import piper  # noqa: F401 - fails here, clearly, when piper-tts is missing
                except ImportError as exc:
                    _reply(protocol, {"ok": False, "error": f"the piper engine is not installed ({exc})", "hint": "pip install 'attune[piper]'"})
                    return 1
                voices = _Voices(max(1, int(request.get("threads", 1))))
                _reply(protocol, {"ok": True, "piper": importlib.metadata.version("piper-tts"), "onnxruntime": onnxruntime.__version__})
                continue
            if voices is None:
                _reply(protocol, {"ok": False, "error": "the worker was not started"})
                continue
            if op in ("synth", "pace"):
                try:
                    voice = voices.get(request["model"], request["config"])
                except Exception as exc:
                    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    _reply(protocol, {"ok": False, "kind": "voice", "error": f"{type(exc).__name__}: {message}"})
                    continue
                speaker = request.get("speaker")
                if op == "pace":
                    from attune.speech.clips import spoken_span_s

                    spoken = []
                    for text in request["texts"]:
                        samples = _speak(voice, text, request.get("length_scale"), speaker)
                        spoken.append(spoken_span_s(samples, voice.config.sample_rate))
                    _reply(protocol, {"ok": True, "spoken_s": spoken})
                    continue
                import numpy as np

                samples = _speak(voice, request["text"], request.get("length_scale"), speaker)
                pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
                with wave.open(request["path"], "wb") as out:
                    out.setnchannels(1)
                    out.setsampwidth(2)
                    out.setframerate(voice.config.sample_rate)
                    out.writeframes(pcm.tobytes())
                _reply(protocol, {"ok": True, "sample_rate_hz": voice.config.sample_rate})
            else:
                _reply(protocol, {"ok": False, "error": f"unknown op {op!r}"})
        except Exception as exc:
            _reply(protocol, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
