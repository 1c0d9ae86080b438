"""The Piper engine: neural voices (piper-tts on onnxruntime) in worker processes, one per core.

The parent never imports piper or onnxruntime: voices are found from their JSON configs
(`attune.speech.engines.piper_voices`), and speech is made in `attune.speech.engines.piper_worker`.

`--rate` means the same pace as with pyttsx3 (`attune.speech.engines.pace`): each voice's pace is
measured once at three length scales and remembered in the speech cache; a rate then becomes
Piper's `length_scale`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import SettingsError, SpeechError, VoiceError
from ...settings import piper_pitch_refused
from ...system.paths import default_cache_dir
from ..clips import excerpt
from ..parallel import WorkerPool, speech_jobs
from ..voices import VoiceInfo
from ..worker import START_TIMEOUT_S, WorkerClient
from .base import VoiceSettings
from .pace import PACE_TEXTS, PaceStore, scale_for_pace, target_spoken_wpm, wpm_of
from .pace_table import known_curves
from .piper_voices import (
    INSTALL_HINT,
    VOICE_LIST,
    PiperVoiceFiles,
    describe_speakers,
    engine_description,
    installed_voices,
    model_digest,
    piper_version,
    read_voice,
    resolve_piper_voice,
    resolve_speaker,
)

NAME = "piper"
_MODULE = "attune.speech.engines.piper_worker"

#: Bump when the pace measurement changes: old measurements (and clips made with them) are then unused.
#: (5: the 100-word passage.)
PACE_VERSION = 5
#: The length scales the pace is measured at, relative to the voice's own: 200 wpm is near 0.9 for
#: most voices, 140 wpm near 1.4, 100 wpm near 2.1.
PACE_SCALES = (0.8, 1.3, 2.1)
#: Seconds a worker may take to load a voice model, on top of the sentence's own time limit.
LOAD_TIMEOUT_S = 60.0


def voice_info(voice: PiperVoiceFiles) -> VoiceInfo:
    return VoiceInfo(
        str(voice.model_path),
        voice.name,
        (voice.language,),
        None,
        voice.quality,
        voice.sample_rate_hz,
        describe_speakers(voice),
        f"{voice.source}: {voice.model_path}",
    )


class PiperSynthesizer:
    """Piper in `parallelism` worker processes (started as needed), with time limits."""

    def __init__(self, cache_dir: Path | None = None, parallelism: int | None = None, worker_argv: Sequence[str] | None = None):
        if piper_version() is None:
            raise SettingsError("the piper engine is not installed", f"{INSTALL_HINT}, or render with --engine pyttsx3")
        self.engine_id = engine_description()
        self.parallelism = max(1, parallelism or speech_jobs())
        self._pool = WorkerPool(lambda: WorkerClient(_MODULE, worker_argv, hello={"threads": 1}), self.parallelism)
        self._paces = PaceStore(Path(cache_dir if cache_dir is not None else default_cache_dir()) / "speech" / "piper-pace.json", known_curves(self.engine_id))
        self._files: dict[str, PiperVoiceFiles] = {}

    # -- voices ------------------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return [voice_info(v) for v in installed_voices()]

    def variants(self) -> list[str]:
        return []

    def voice_settings(self, spec: str | None, rate_wpm: float, pitch: int | None, speaker: str | None, language: str | None) -> VoiceSettings:
        if pitch is not None:
            raise piper_pitch_refused()
        files = resolve_piper_voice(spec, language)
        speaker_id = resolve_speaker(files, speaker)
        self._files[str(files.model_path)] = files
        return VoiceSettings(str(files.model_path), rate_wpm, None, speaker_id)

    def _voice_files(self, voice: VoiceSettings) -> PiperVoiceFiles:
        files = self._files.get(voice.voice_id)
        if files is None:
            files = self._files[voice.voice_id] = read_voice(Path(voice.voice_id), "file")
        return files

    def voice_key(self, voice: VoiceSettings) -> str:
        """The model's and config's hash, the speaker, and the pace measurement's version."""
        return f"{model_digest(self._voice_files(voice))}:{voice.speaker}:pace{PACE_VERSION}"

    # -- pace --------------------------------------------------------------------------------------

    def pace(self, voice: VoiceSettings) -> tuple[tuple[float, float], ...]:
        """The voice's pace curve: (length scale, words per minute of spoken span) at PACE_SCALES times
        its own scale. Measured once (pauses between words do not stretch quite as phonemes do, so
        one point would not do), then remembered in the cache."""
        files = self._voice_files(voice)

        def measure(scale: float) -> float:
            payload = {"op": "pace", "texts": list(PACE_TEXTS), "speaker": voice.speaker, "length_scale": scale}
            reply = self._call(files, payload, START_TIMEOUT_S + LOAD_TIMEOUT_S, f"measuring the pace of {files.name}")
            return wpm_of(reply["spoken_s"], f"the Piper voice {files.name}")

        key = f"{model_digest(files)}:{voice.speaker}:pace{PACE_VERSION}"
        return self._paces.curve(key, [files.length_scale * k for k in PACE_SCALES], measure, self.parallelism, abort=self._pool.cancel)

    def length_scale(self, voice: VoiceSettings) -> float:
        """Piper's `length_scale` for `voice.rate_wpm`: the one at which the voice speaks at pyttsx3's
        pace, read off the measured curve (straight lines in log-log between its points, the end
        segments continued beyond them)."""
        return scale_for_pace(self.pace(voice), target_spoken_wpm(voice.rate_wpm))

    # -- speech ------------------------------------------------------------------------------------

    def _call(self, files: PiperVoiceFiles, payload: dict, timeout_s: float, doing: str) -> dict:
        with self._pool.client() as worker:
            loaded = worker.hello.get("attune_loaded", ())
            if str(files.model_path) not in loaded:
                timeout_s += LOAD_TIMEOUT_S
            reply = worker.request({**payload, "model": str(files.model_path), "config": str(files.config_path)}, timeout_s, doing)
            if reply.get("ok") and str(files.model_path) not in loaded:
                # Remembered in the worker's hello, which a restarted worker replaces: it loads the model again.
                worker.hello["attune_loaded"] = (*loaded, str(files.model_path))
        if reply.get("ok"):
            return reply
        if reply.get("kind") == "voice":
            raise VoiceError(
                f"the Piper voice model {files.model_path} could not be loaded ({reply.get('error')})",
                f"the file is damaged or incomplete: download the voice again from {VOICE_LIST}",
            )
        raise SpeechError(f"the piper engine failed while {doing}: {reply.get('error')}", "run `attune doctor`")

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        files = self._voice_files(voice)
        payload = {"op": "synth", "text": text, "length_scale": self.length_scale(voice), "speaker": voice.speaker, "path": str(wav_path)}
        self._call(files, payload, WorkerClient.speak_timeout_s(text), f"speaking {excerpt(text)}")

    def cancel(self) -> None:
        """Kill the workers now; every request in flight fails at once (until `close()`)."""
        self._pool.cancel()

    def close(self) -> None:
        self._pool.close()
