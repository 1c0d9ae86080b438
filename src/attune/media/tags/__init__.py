"""Tags in each format's own kind: title, artist, album, comment, track number, cover and chapters.

Written with mutagen after encoding, replacing whatever the encoder wrote:

    MP3         ID3v2.4 with CHAP + CTOC chapters (ffmpeg cannot write a CTOC; podcast apps need it)
    M4A, M4B    MP4 atoms and the cover (chapters were written by ffmpeg while encoding)
    Opus, FLAC  Vorbis comments with CHAPTERxxx chapters, and the cover as a FLAC picture
    WAV         none

model.py     Tags and Chapter, checked when built
id3.py       MP3: ID3v2.4, CHAP + CTOC
mp4.py       M4A and M4B: MP4 atoms
vorbis.py    Opus and FLAC: Vorbis comments, CHAPTERxxx, the cover as a FLAC picture
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...formats import FORMATS, Format
from ..cover import MAX_COVER_BYTES, check_cover, cover_mime
from .model import Chapter, Tags

__all__ = ["MAX_COVER_BYTES", "Chapter", "Tags", "check_cover", "cover_mime", "write_file_tags", "write_tags"]


def write_tags(
    path: Path,
    *,
    title: str,
    artist: str | None = None,
    album: str | None = None,
    comment: str | None = None,
    track: tuple[int, int] | None = None,
    cover: Path | None = None,
    chapters: Sequence[Chapter] = (),
    fmt: Format | str = "mp3",
) -> None:
    """Replace the tags of the file at `path` (in place) with these, in `fmt`'s own kind of tag."""
    tags = Tags(title, artist, album, comment, track, Path(cover) if cover is not None else None, tuple(chapters))
    write_file_tags(Path(path), tags, fmt)


def write_file_tags(path: Path, tags: Tags, fmt: Format | str) -> None:
    """Replace the tags of the file at `path` (in place) with `tags`, in `fmt`'s own kind of tag."""
    spec = fmt if isinstance(fmt, Format) else FORMATS[fmt]
    if spec.tags == "id3":
        from .id3 import write_id3

        write_id3(path, tags)
    elif spec.tags == "mp4":
        from .mp4 import write_mp4

        write_mp4(path, tags, audiobook=spec.name == "m4b")
    elif spec.tags == "vorbis":
        from .vorbis import write_vorbis

        write_vorbis(path, tags, spec.name)
