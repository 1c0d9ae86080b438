"""The seam every speech engine sits behind: `Synthesizer`, and `VoiceSettings` (how to speak).

An engine lists its voices and writes one sentence to a WAV file; the speech cache (`attune.speech.cache`)
validates, trims and stores what it wrote. Tests substitute a fake engine.

Beside the protocol's members, an engine may have (the cache and the renderer look for them):
- `parallelism: int`: how many sentences it can speak at once (1 when absent); its `synthesize`
  is then safe to call from that many threads;
- `cancel()`: stop at once (an interrupt, or a failure that makes the rest pointless): every call in
  flight fails within milliseconds and none starts until `close()` (`attune.speech.cache.stop_engine`);
- `voice_key(voice) -> str`: what else identifies the sound of `voice` (a hash of a model's files);
- `voice_settings(spec, rate_wpm, pitch, speaker, language) -> VoiceSettings`: its own way of turning
  `--voice`, `--speaker` and a script's language into a voice (else `attune.speech.voices.resolve_voice`);
- `prepare(voice, sentences, script_path) -> list[str]`: called once with every sentence (text and
  line) the track will speak in `voice`, before any is spoken; it may raise one error per sentence it
  cannot speak, and returns warnings (the recording engine aligns its take here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..voices import VoiceInfo


@dataclass(frozen=True)
class VoiceSettings:
    """How to speak: an engine voice id (with any +variant), words per minute, pitch 0–100 (None: engine
    default), and a speaker id for multi-speaker voices (None: the voice's default). For the recording
    engine, `voice_id` is the take's absolute path."""

    voice_id: str
    rate_wpm: float
    pitch: int | None = None
    speaker: int | None = None
    #: Engine-specific settings, as (name, value) pairs (the recording engine: its clean-up, recogniser).
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str, default: str | None = None) -> str | None:
        return dict(self.options).get(name, default)


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
