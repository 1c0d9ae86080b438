"""`attune check`: validate a script fully without the speech engine or any audio work."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .audio.background import parse_background
from .durations import format_duration
from .library import resolve_script
from .script import Bell, Pause, Speech, count_words, load_script


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_script(path: Path, vars: Mapping[str, str] | None = None) -> str:
    """Raise the script's first error, or return a one-line summary of it."""
    script = load_script(resolve_script(path), vars)
    background = script.settings.background
    if background is not None:
        parse_background(background.value, base_dir=background.base_dir, path=background.path, line=background.line)
    words = bells = 0
    pauses_min = 0.0
    open_ended = False
    for section in script.sections:
        for item in section.items:
            if isinstance(item, Speech):
                words += count_words(item.text) * section.repeat
            elif isinstance(item, Pause):
                pauses_min += item.min_s * section.repeat
                open_ended |= item.max_s is None
            elif isinstance(item, Bell):
                bells += section.repeat
    optional = sum(1 for s in script.sections if s.optional)
    parts = [
        _count(len(script.sections), "section") + (f" ({optional} optional)" if optional else ""),
        _count(words, "word"),
        f"pauses from {format_duration(pauses_min)}" + (", open-ended" if open_ended else ""),
    ]
    opening, closing = bool(script.settings.bells_start), bool(script.settings.bells_end)
    if bells or opening or closing:
        parts.append(_count(bells + opening + closing, "bell"))
    return ", ".join(parts)
