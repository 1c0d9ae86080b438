"""Speech engines, one file each, all behind `base.Synthesizer`; `create_synthesizer(name)` picks one."""

from __future__ import annotations

from ...errors import SettingsError
from .base import Synthesizer


def create_synthesizer(engine: str) -> Synthesizer:
    """A new synthesiser for `engine` (its worker process starts on first use)."""
    if engine == "pyttsx3":
        from .pyttsx3 import Pyttsx3Synthesizer

        return Pyttsx3Synthesizer()
    raise SettingsError(f"unknown speech engine {engine!r}", "use --engine pyttsx3")


def engine_identity(engine: str, voice: str | None = None) -> str:
    """Everything about `engine` here that decides its sound, with Attune's version: two machines whose
    identities match render the same speech (a batch's workers are checked against the client).

    Light: it names the engine and its library without starting it. `voice` is for engines whose
    voices are files of their own (their identity includes the voice's); pyttsx3's voices are not.
    """
    from ... import __version__

    if engine == "pyttsx3":
        from .espeak import engine_description

        return f"attune {__version__}; {engine_description()}"
    raise SettingsError(f"unknown speech engine {engine!r}", "use --engine pyttsx3")
