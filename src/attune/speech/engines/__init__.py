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
