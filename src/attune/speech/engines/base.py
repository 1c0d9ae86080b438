"""The seam every speech engine sits behind: `Synthesizer`, and `VoiceSettings` (how to speak).

An engine lists its voices and writes one sentence to a WAV file; the speech cache (`attune.speech.cache`)
validates, trims and stores what it wrote. Tests substitute a fake engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..voices import VoiceInfo


@dataclass(frozen=True)
class VoiceSettings:
    """How to speak: an engine voice id (with any +variant), words per minute, pitch 0–100 (None: engine default)."""

    voice_id: str
    rate_wpm: float
    pitch: int | None = None


class Synthesizer(Protocol):
    """What Attune needs from a speech engine.

    `engine_id` names the engine and everything that decides its sound (versions, library): it is
    part of every clip's cache key, so a clip made by one engine is never reused for another.
    """

    engine_id: str

    def voices(self) -> list[VoiceInfo]: ...

    def variants(self) -> list[str]: ...

    def synthesize(self, text: str, voice: VoiceSettings, wav_path: Path) -> None: ...

    def close(self) -> None: ...
