"""M3U8 playlists: the sections of a split track, in order, for platforms that want separate lessons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlaylistEntry:
    """A file beside the playlist (a relative name), its length and its title."""

    name: str
    duration_s: float
    title: str


def m3u8_text(entries: Sequence[PlaylistEntry]) -> str:
    """An extended M3U playlist, UTF-8 (`#EXTM3U`, then `#EXTINF:seconds,title` and the file per entry)."""
    lines = ["#EXTM3U"]
    for entry in entries:
        title = " ".join(entry.title.split())
        lines += [f"#EXTINF:{round(entry.duration_s)},{title}", entry.name]
    return "\n".join(lines) + "\n"


def write_m3u8(path: Path, entries: Sequence[PlaylistEntry]) -> None:
    """Write the playlist to `path` (the caller's temporary file, renamed into place with the rest)."""
    Path(path).write_text(m3u8_text(entries), encoding="utf-8")
