"""`Speakers`: one speech cache per engine, for a track whose sections may each speak with another engine.

Each engine is made by the one factory (`attune.speech.engines`: the renderer passes
`shared_synthesizer`), so any engine Attune knows can speak any section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .cache import SpeechCache
from .engines import create_synthesizer
from .engines.base import Synthesizer, VoiceSettings


class Speakers:
    """Speech caches by engine: the track's (over `synthesizer`, when given) and any a section asks for."""

    def __init__(self, synthesizer: Synthesizer | None, cache_dir: Path | None, engine: str, factory: Callable[[str], Synthesizer] | None = None):
        self.cache_dir = cache_dir
        self.engine = engine
        self._factory = factory or create_synthesizer
        self._owned: list[Synthesizer] = []
        self._caches: dict[str, SpeechCache] = {}
        self._owner: dict[str, SpeechCache] = {}
        if synthesizer is not None:
            self._caches[engine] = SpeechCache(synthesizer, cache_dir)

    def cache(self, engine: str | None = None) -> SpeechCache:
        engine = engine or self.engine
        if engine not in self._caches:
            synth = self._factory(engine)
            self._owned.append(synth)
            self._caches[engine] = SpeechCache(synth, self.cache_dir)
        return self._caches[engine]

    @property
    def synthesized(self) -> int:
        return sum(cache.synthesized for cache in self._caches.values())

    def ensure(self, engine: str, texts: Sequence[str], voice: VoiceSettings, progress=None) -> dict[str, str]:
        cache = self.cache(engine)
        keys = cache.ensure(texts, voice, progress)
        for key in keys.values():
            self._owner[key] = cache
        return keys

    def frames(self, key: str) -> int:
        return self._owner[key].frames(key)

    def load(self, key: str) -> np.ndarray:
        return self._owner[key].load(key)

    def close(self) -> None:
        for synth in self._owned:
            synth.close()
