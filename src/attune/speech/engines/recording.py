"""The recording engine: each sentence spoken with the practitioner's own reading of it, cut from a take.

`voice_settings` turns the take (its path) and the clean-up and recogniser asked for into a voice;
`prepare` aligns the take with every sentence the track will speak (`attune.speech.recording.align`),
raising one error per sentence the take does not have; `synthesize` then cuts a sentence's clip (with
its breath room, cleaned with context around it, faded in over the breath before it and out over the
breath after it) and writes it as a WAV, like any engine, so the cache validates and keeps it and the
planner and mixer never know the difference. The voice is levelled to the track's target by the mix,
as every engine's is.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...errors import SpeechError
from ...settings import DEFAULT_RATE_WPM, RECORDING_ENGINE, TrackSettings
from ...system.files import sha256_file
from ...timebase import SAMPLE_RATE
from ..clips import excerpt
from ..voices import VoiceInfo
from .base import VoiceSettings

if TYPE_CHECKING:
    from ..recording.align import Alignment

NAME = RECORDING_ENGINE
#: Seconds of the take on each side of a clip that the clean-up hears (a denoiser needs context).
CLEAN_CONTEXT_S = 0.5
#: The fade at a clip's very edges, inside its breath room's longer fade.
EDGE_FADE_S = 0.005


def engine_description() -> str:
    from ..recording.align import ALIGN_VERSION

    return f"recording: cuts v{ALIGN_VERSION}"


def take_identity(voice: VoiceSettings) -> str:
    """What decides the clips cut from `voice`'s take: its bytes, the clean-up, the recogniser."""
    from ..recording.clean import DEFAULT_CLEAN_LEVEL, cleaner_identity
    from ..recording.recognise import model_identity

    level = voice.option("clean") or DEFAULT_CLEAN_LEVEL
    return f"take sha256:{sha256_file(voice.voice_id)}; {cleaner_identity(level)}; {model_identity(voice.option('asr_model') or None)}"


def voice_options(settings: TrackSettings) -> dict[str, str]:
    """The options of a take's voice that `settings` give: clean-up, recogniser, the take as written."""
    assert settings.recording is not None
    options = {"clean": settings.clean, "asr_model": settings.asr_model, "label": settings.recording.value}
    return {k: v for k, v in options.items() if v}


class RecordingSynthesizer:
    """Cuts each sentence from its take; one take decoded once per process (at the track's rate)."""

    parallelism = 1

    def __init__(self, cache_dir: Path | None = None):
        self.engine_id = engine_description()
        self.cache_dir = cache_dir
        self._alignments: dict[VoiceSettings, Alignment] = {}
        self._decoded: dict[str, np.ndarray] = {}
        self._keys: dict[VoiceSettings, str] = {}
        self._lock = threading.Lock()

    def voices(self) -> list[VoiceInfo]:
        return []

    def variants(self) -> list[str]:
        return []

    def voice_settings(
        self, spec: str | None, rate_wpm: float, pitch: int | None, speaker: str | None, language: str | None, options: Mapping[str, str] | None = None
    ) -> VoiceSettings:
        from ..recording.take import check_take

        if spec is None:
            raise SpeechError("the recording engine needs a take", "give one with --recording TAKE or recording: in the script")
        take = check_take(Path(spec))
        # The take's own pace: `--rate` changes nothing (the clip's key and its checks use the default rate).
        return VoiceSettings(str(take.resolve()), DEFAULT_RATE_WPM, None, None, tuple(sorted((options or {}).items())))

    def voice_key(self, voice: VoiceSettings) -> str:
        with self._lock:
            if voice not in self._keys:
                self._keys[voice] = take_identity(voice)
            return self._keys[voice]

    def prepare(self, voice: VoiceSettings, sentences: Sequence[tuple[str, int]], script_path: str) -> list[str]:
        """Align the take with `sentences` ((text, line) pairs); the take's warnings (extra speech)."""
        from ..recording.align import ScriptSentence, align_take

        alignment = align_take(
            [ScriptSentence(text, line) for text, line in sentences], Path(voice.voice_id), script_path=script_path,
            take_label=voice.option("label") or voice.voice_id, asr_model=voice.option("asr_model") or None, cache_dir=self.cache_dir,
        )  # fmt: skip
        with self._lock:
            self._alignments[voice] = alignment
        return list(alignment.warnings)

    def clip_frames(self, settings: TrackSettings, sentences: Sequence[tuple[str, int]], script_path: str) -> dict[str, int]:
        """Each sentence's clip length in frames, without cutting: the cached clip's where there is
        one, else the aligned clip's span (`attune check`). Aligns the take (errors as a render's)."""
        from ..cache import SpeechCache
        from ..keys import npy_frames

        assert settings.recording is not None
        cache = SpeechCache(self, self.cache_dir)
        voice = cache.voice_settings(str(settings.recording.file), 0.0, options=voice_options(settings))
        self.prepare(voice, sentences, script_path)
        alignment = self._alignments[voice]
        frames = {}
        for text, _ in sentences:
            found = alignment.find(text)
            cached = npy_frames(cache.path(cache.key(text, voice)))
            if cached is None and found is not None:
                cached = round((found.clip_end_s - found.clip_start_s) * SAMPLE_RATE)
            frames[text] = cached or 0
        return frames

    def _take(self, path: str) -> np.ndarray:
        from ..recording.take import decode_take

        with self._lock:
            if path not in self._decoded:
                self._decoded.clear()  # one take at a time: a 20-minute take is 200 MB at 44.1 kHz
                self._decoded[path] = decode_take(Path(path), SAMPLE_RATE)
            return self._decoded[path]

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None:
        from ..recording.clean import DEFAULT_CLEAN_LEVEL, clean_take

        alignment = self._alignments.get(voice)
        found = alignment.find(text) if alignment is not None else None
        if found is None:
            raise SpeechError(f"{excerpt(text)} was not aligned with the take", "this is a bug in Attune: please report it")
        take = self._take(voice.voice_id)
        rate = SAMPLE_RATE
        a, b = round(found.clip_start_s * rate), round(found.clip_end_s * rate)
        ctx = round(CLEAN_CONTEXT_S * rate)
        lo, hi = max(0, a - ctx), min(take.size, b + ctx)
        cleaned = clean_take(take[lo:hi], rate, voice.option("clean") or DEFAULT_CLEAN_LEVEL)
        clip = np.asarray(cleaned[a - lo : b - lo], dtype=np.float64)
        if clip.size == 0:
            raise SpeechError(f"the take has no audio where {excerpt(text)} was found", "run `attune align` to see the alignment")
        # Faded in over the breath room before the speech, out over the breath room after it.
        fade_in = max(round((found.start_s - found.clip_start_s) * rate), round(EDGE_FADE_S * rate))
        fade_out = max(round((found.clip_end_s - found.end_s) * rate), round(EDGE_FADE_S * rate))
        fade_in, fade_out = min(fade_in, clip.size // 2), min(fade_out, clip.size // 2)
        clip[:fade_in] *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade_in))
        clip[clip.size - fade_out :] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade_out))
        pcm = np.clip(np.round(clip * 32767.0), -32768, 32767).astype("<i2")
        with wave.open(str(wav_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm.tobytes())

    def close(self) -> None:
        with self._lock:
            self._decoded.clear()
