"""The speech cache: every sentence synthesised once per engine, voice, rate and pitch, kept on disk.

Clips are stored as trimmed, edge-faded float32 at the track's rate (`attune.speech.clips`), so a
re-render with another length or background does no synthesis at all. Temporary names are unique
across processes and machines (`mkstemp`), so several workers, or machines, may share a cache.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..errors import OutputError, SpeechError
from ..request import default_cache_dir
from ..system.atomic import atomic_path, write_text
from .clips import excerpt, process_clip, read_wav_mono
from .engines.base import Synthesizer, VoiceSettings
from .keys import CLIP_FORMAT_VERSION, clip_key, clip_path, engine_root
from .voices import VoiceInfo

__all__ = ["CLIP_FORMAT_VERSION", "SpeechCache"]


class SpeechCache:
    """Clips on disk under `cache_dir/speech/<engine>/`, keyed by engine, voice, rate, pitch and text."""

    def __init__(self, synthesizer: Synthesizer, cache_dir: Path | None = None):
        self.synthesizer = synthesizer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.root = engine_root(self.cache_dir, synthesizer.engine_id)
        #: How many clips this cache had to synthesise (0 on a warm re-render).
        self.synthesized = 0

    def key(self, text: str, voice: VoiceSettings) -> str:
        return clip_key(self.synthesizer.engine_id, voice, text)

    def path(self, key: str) -> Path:
        return clip_path(self.root, key)

    def voices(self) -> list[VoiceInfo]:
        """The engine's voices, remembered in the cache so a warm render never starts the engine."""
        listing = self.root / "voices.json"
        with contextlib.suppress(OSError, ValueError, KeyError):
            return [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v.get("gender")) for v in json.loads(listing.read_text("utf-8"))]
        voices = self.synthesizer.voices()
        with contextlib.suppress(OSError, OutputError):  # a read-only cache still renders
            listing.parent.mkdir(parents=True, exist_ok=True)
            write_text(listing, json.dumps([{"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender} for v in voices]))
        return voices

    def frames(self, key: str) -> int:
        return int(np.load(self.path(key), mmap_mode="r").shape[0])

    def load(self, key: str) -> np.ndarray:
        return np.load(self.path(key))

    def ensure(self, texts: Iterable[str], voice: VoiceSettings, progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
        """Make sure every text has a clip; return text → cache key. Synthesises only what is missing."""
        keys = {text: self.key(text, voice) for text in dict.fromkeys(texts)}
        missing = [text for text, key in keys.items() if not self.path(key).exists()]
        for done, text in enumerate(missing, 1):
            self._synthesize(text, voice, keys[text])
            if progress:
                progress(done, len(missing))
        return keys

    def _synthesize(self, text: str, voice: VoiceSettings, key: str) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="attune-tts-", ignore_cleanup_errors=True) as scratch:
            wav = Path(scratch) / "speech.wav"
            try:
                self.synthesizer.synthesize(text, voice, wav)
            except BaseException:
                # Stop the engine before its scratch folder goes: it may still be writing there.
                self.synthesizer.close()
                raise
            if not wav.exists() or wav.stat().st_size <= 44:
                raise SpeechError(f"the speech engine wrote no audio for {excerpt(text)}", "try again; if it persists, run `attune doctor`")
            samples, rate_hz = read_wav_mono(wav)
        clip = process_clip(samples, rate_hz, text, voice.rate_wpm)
        with atomic_path(final) as tmp, open(tmp, "wb") as handle:
            np.save(handle, clip)
        self.synthesized += 1
