"""`attune check`: validate a script fully without the speech engine or any audio work."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .beds import parse_background
from .durations import format_duration
from .script import Bell, Pause, Speech, load_script
from .speech import count_words


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_script(path: Path, vars: Mapping[str, str] | None = None) -> str:
    """Raise the script's first error, or return a one-line summary of it."""
    script = load_script(path, vars)
    parse_background(script.background, base_dir=Path(script.path).parent, path=script.path, line=script.background_line)
    words = pauses_min = bells = 0
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
    parts = [_count(len(script.sections), "section") + (f" ({optional} optional)" if optional else ""), _count(words, "word"),
             f"pauses from {format_duration(pauses_min)}" + (", open-ended" if open_ended else "")]
    if bells or script.bells_start or script.bells_end:
        parts.append(_count(bells + script.bells_start + script.bells_end, "bell"))
    return ", ".join(parts)
