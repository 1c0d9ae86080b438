"""The pyttsx3 engine: espeak-ng on Linux (through the espeakng-loader wheel), SAPI5 on Windows,
the system voices on macOS, in a worker process (`attune.speech.engines.pyttsx3_worker`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import SpeechError
from ..clips import excerpt
from ..voices import VoiceInfo
from ..worker import START_TIMEOUT_S, WorkerClient
from .base import VoiceSettings
from .espeak import engine_description, espeak_variants, find_espeak

NAME = "pyttsx3"


class Pyttsx3Synthesizer(WorkerClient):
    """pyttsx3 in a child process, started on first use, with time limits."""

    def __init__(self, worker_argv: Sequence[str] | None = None):
        super().__init__("attune.speech.engines.pyttsx3_worker", worker_argv)
        self.engine_id = engine_description()

    def voices(self) -> list[VoiceInfo]:
        reply = self._request({"op": "voices"}, START_TIMEOUT_S, "listing voices")
        if not reply.get("ok"):
            raise SpeechError(reply.get("error", "could not list voices"), "run `attune doctor`")
        return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in reply["voices"]]

    def variants(self) -> list[str]:
        return espeak_variants() if find_espeak() is not None else []

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        timeout_s = self.speak_timeout_s(text)
        payload = {
            "op": "synth",
            "text": text,
            "voice": voice.voice_id,
            "rate_wpm": voice.rate_wpm,
            "pitch": voice.pitch,
            "path": str(wav_path),
            "timeout_s": timeout_s,
        }
        reply = self._request(payload, timeout_s, f"speaking {excerpt(text)}")
        if not reply.get("ok"):
            raise SpeechError(f"the speech engine failed on {excerpt(text)}: {reply.get('error')}", "check the voice with `attune voices`")
