"""What a finished file is labelled with (`Tags`, its `Chapter`s), checked when built; each writer takes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..cover import check_cover


@dataclass(frozen=True)
class Chapter:
    """One section of a track, from `start_s` to `end_s` seconds."""

    title: str
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (0 <= self.start_s <= self.end_s):
            raise ValueError(f"chapter {self.title!r} runs from {self.start_s}s to {self.end_s}s")


@dataclass(frozen=True)
class Tags:
    """What a finished file is labelled with."""

    title: str
    artist: str | None = None
    album: str | None = None
    comment: str | None = None
    track: tuple[int, int] | None = None
    cover: Path | None = None
    chapters: Sequence[Chapter] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.track is not None:
            number, total = self.track
            if not (1 <= number <= total):
                raise ValueError(f"track {number}/{total} is out of range")
        if self.cover is not None:
            check_cover(Path(self.cover))
