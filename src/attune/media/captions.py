"""WebVTT captions: one cue per spoken sentence, timed from the plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..system.atomic import write_text


@dataclass(frozen=True)
class Cue:
    """Text shown from `start_s` to `end_s` seconds."""

    start_s: float
    end_s: float
    text: str

    def __post_init__(self) -> None:
        if not (0 <= self.start_s <= self.end_s):
            raise ValueError(f"cue {self.text!r} runs from {self.start_s}s to {self.end_s}s")


def timestamp(seconds: float) -> str:
    """`HH:MM:SS.mmm`, rounded to the millisecond: 3661.25 → `01:01:01.250`."""
    total_ms = round(seconds * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def escape_cue_text(text: str) -> str:
    """Escape `&`, `<` and `>` (so no `-->` survives) and drop blank lines, which would end the cue."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text)]
    return "\n".join(line for line in lines if line)


def vtt_text(cues: Sequence[Cue]) -> str:
    """The WebVTT file for `cues`, ordered by start time; cues with no text are left out."""
    blocks: list[str] = []
    for cue in sorted(cues, key=lambda c: c.start_s):
        text = escape_cue_text(cue.text)
        if not text:
            continue
        blocks.append(f"{len(blocks) + 1}\n{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}\n{text}\n")
    return "WEBVTT\n\n" + "\n".join(blocks) if blocks else "WEBVTT\n"


def write_vtt(path: Path, cues: Sequence[Cue]) -> None:
    """Write the WebVTT file atomically, UTF-8."""
    write_text(Path(path), vtt_text(cues))
