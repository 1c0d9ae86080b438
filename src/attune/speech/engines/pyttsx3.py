"""The pyttsx3 engine: espeak-ng on Linux (through the espeakng-loader wheel), SAPI5 on Windows,
the system voices on macOS, in worker processes (`attune.speech.engines.pyttsx3_worker`), one per core."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import SpeechError
from ..clips import excerpt
from ..parallel import WorkerPool, speech_jobs
from ..voices import VoiceInfo
from ..worker import START_TIMEOUT_S, WorkerClient
from .base import VoiceSettings
from .espeak import engine_description, espeak_variants, find_espeak

NAME = "pyttsx3"
_MODULE = "attune.speech.engines.pyttsx3_worker"


class Pyttsx3Synthesizer:
    """pyttsx3 in up to `parallelism` child processes, started on first use, with time limits."""

    def __init__(self, worker_argv: Sequence[str] | None = None, parallelism: int | None = None):
        self.engine_id = engine_description()
        self.parallelism = max(1, parallelism or speech_jobs())
        self._pool = WorkerPool(lambda: WorkerClient(_MODULE, worker_argv), self.parallelism)

    @property
    def workers(self) -> list[WorkerClient]:
        """The worker processes started so far (a worker stopped after a failure restarts on next use)."""
        return self._pool.workers

    def voices(self) -> list[VoiceInfo]:
        with self._pool.client() as worker:
            reply = worker.request({"op": "voices"}, START_TIMEOUT_S, "listing voices")
            driver = worker.hello.get("driver")
        if not reply.get("ok"):
            raise SpeechError(reply.get("error", "could not list voices"), "run `attune doctor`")
        # espeak-ng's voices carry no gender (pyttsx3 reports "Male" for every one): none is shown.
        return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), None if driver == "espeak" else v.get("gender")) for v in reply["voices"]]

    def variants(self) -> list[str]:
        return espeak_variants() if find_espeak() is not None else []

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        timeout_s = WorkerClient.speak_timeout_s(text)
        payload = {
            "op": "synth",
            "text": text,
            "voice": voice.voice_id,
            "rate_wpm": voice.rate_wpm,
            "pitch": voice.pitch,
            "path": str(wav_path),
            "timeout_s": timeout_s,
        }
        with self._pool.client() as worker:
            reply = worker.request(payload, timeout_s, f"speaking {excerpt(text)}")
        if not reply.get("ok"):
            raise SpeechError(f"the speech engine failed on {excerpt(text)}: {reply.get('error')}", "check the voice with `attune voices`")

    def cancel(self) -> None:
        """Kill the workers now; every request in flight fails at once (until `close()`)."""
        self._pool.cancel()

    def close(self) -> None:
        self._pool.close()
