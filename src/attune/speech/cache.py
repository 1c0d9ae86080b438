"""The speech cache: every sentence synthesised once per engine, voice, rate and pitch, kept on disk.

Clips are stored as trimmed, edge-faded float32 at the track's rate (`attune.speech.clips`), so a
re-render with another length or background does no synthesis at all. Temporary names are unique
across processes and machines (`mkstemp`), so several workers, or machines, may share a cache.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..errors import OutputError, SpeechError, VoiceError
from ..request import default_cache_dir
from ..system.atomic import atomic_path, write_text
from .clips import excerpt, process_clip, read_wav_mono
from .engines.base import Synthesizer, VoiceSettings
from .keys import CLIP_FORMAT_VERSION, VOICES_FILE, clip_key, clip_path, engine_root
from .voices import VoiceInfo, resolve_voice

__all__ = ["CLIP_FORMAT_VERSION", "SpeechCache"]


class SpeechCache:
    """Clips on disk under `cache_dir/speech/<engine>/`, keyed by engine (and its versions), voice (and,
    for a model-file voice, a hash of its files), speaker, rate, pitch and text.

    A cold `ensure` synthesises distinct sentences at once, as many as the engine's `parallelism`."""

    def __init__(self, synthesizer: Synthesizer, cache_dir: Path | None = None):
        self.synthesizer = synthesizer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.root = engine_root(self.cache_dir, synthesizer.engine_id)
        #: How many clips this cache had to synthesise (0 on a warm re-render).
        self.synthesized = 0
        self._count_lock = threading.Lock()

    def key(self, text: str, voice: VoiceSettings) -> str:
        voice_key = getattr(self.synthesizer, "voice_key", None)
        return clip_key(self.synthesizer.engine_id, voice, text, voice_key(voice) if voice_key is not None else None)

    def path(self, key: str) -> Path:
        return clip_path(self.root, key)

    def voices(self) -> list[VoiceInfo]:
        """The engine's voices, remembered in the cache so a warm render never starts the engine."""
        listing = self.root / VOICES_FILE
        with contextlib.suppress(OSError, ValueError, KeyError):
            return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in json.loads(listing.read_text("utf-8"))]
        voices = self.synthesizer.voices()
        with contextlib.suppress(OSError, OutputError):  # a read-only cache still renders
            listing.parent.mkdir(parents=True, exist_ok=True)
            write_text(listing, json.dumps([{"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender} for v in voices]))
        return voices

    def voice_settings(self, spec: str | None, rate_wpm: float, pitch: int | None = None, speaker: str | None = None, language: str | None = None) -> VoiceSettings:
        """How to speak: `--voice` (or, with none, the script's `language`), rate, pitch and speaker,
        resolved the engine's way (Piper: its model files) or by `resolve_voice` over the cached listing."""
        resolve = getattr(self.synthesizer, "voice_settings", None)
        if resolve is not None:
            return resolve(spec, rate_wpm, pitch, speaker, language)
        if speaker is not None:
            raise VoiceError(f"speaker {speaker!r} needs a multi-speaker voice of the piper engine", "drop --speaker, or use --engine piper")
        voice_id = resolve_voice(spec, self.voices(), variants=self.synthesizer.variants(), language=language)
        return VoiceSettings(voice_id, rate_wpm, pitch)

    def frames(self, key: str) -> int:
        return int(np.load(self.path(key), mmap_mode="r").shape[0])

    def load(self, key: str) -> np.ndarray:
        return np.load(self.path(key))

    def ensure(self, texts: Iterable[str], voice: VoiceSettings, progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
        """Make sure every text has a clip; return text → cache key. Synthesises only what is missing."""
        keys = {text: self.key(text, voice) for text in dict.fromkeys(texts)}
        missing = [text for text, key in keys.items() if not self.path(key).exists()]
        jobs = min(max(1, int(getattr(self.synthesizer, "parallelism", 1))), len(missing))
        if jobs <= 1:
            for done, text in enumerate(missing, 1):
                self._synthesize(text, voice, keys[text])
                if progress:
                    progress(done, len(missing))
            return keys
        with concurrent.futures.ThreadPoolExecutor(jobs, thread_name_prefix="attune-speech") as pool:
            futures = [pool.submit(self._synthesize, text, voice, keys[text], False) for text in missing]
            try:
                for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                    future.result()
                    if progress:
                        progress(done, len(missing))
            except BaseException:
                for future in futures:
                    future.cancel()
                self.synthesizer.close()  # stops the sentences still being spoken; the first failure is reported
                raise
        return keys

    def _synthesize(self, text: str, voice: VoiceSettings, key: str, close_on_error: bool = True) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="attune-tts-", ignore_cleanup_errors=True) as scratch:
            wav = Path(scratch) / "speech.wav"
            try:
                self.synthesizer.synthesize(text, voice, wav)
            except BaseException:
                # Stop the engine before its scratch folder goes: it may still be writing there.
                # (In parallel, `ensure` stops every worker once, after the first failure.)
                if close_on_error:
                    self.synthesizer.close()
                raise
            if not wav.exists() or wav.stat().st_size <= 44:
                raise SpeechError(f"the speech engine wrote no audio for {excerpt(text)}", "try again; if it persists, run `attune doctor`")
            samples, rate_hz = read_wav_mono(wav)
        clip = process_clip(samples, rate_hz, text, voice.rate_wpm)
        with atomic_path(final) as tmp, open(tmp, "wb") as handle:
            np.save(handle, clip)
        with self._count_lock:
            self.synthesized += 1
