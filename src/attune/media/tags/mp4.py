"""MP4 atoms for M4A and M4B: title, artist, album, comment, track number, cover; M4B is an audiobook.

The chapters are in the file already: ffmpeg writes them while encoding (a QuickTime chapter track,
which Apple Podcasts, BookPlayer and ffmpeg read, and a Nero `chpl`, which mutagen reads). mutagen
rewrites the `moov` atom around them and fixes the offsets, so they survive tagging.
"""

from __future__ import annotations

from pathlib import Path

from mutagen import MutagenError
from mutagen.mp4 import MP4, MP4Cover

from ...errors import OutputError
from ..cover import cover_mime
from .model import Tags

#: iTunes media kind (`stik`) of an audiobook.
_AUDIOBOOK = 2


def write_mp4(path: Path, tags: Tags, *, audiobook: bool) -> None:
    try:
        file = MP4(str(path))
        if file.tags is None:
            file.add_tags()
        assert file.tags is not None
        file.tags.clear()
        values = file.tags
        values["\xa9nam"] = [tags.title]
        if tags.artist:
            values["\xa9ART"] = [tags.artist]
        if tags.album:
            values["\xa9alb"] = [tags.album]
        if tags.comment:
            values["\xa9cmt"] = [tags.comment]
        if tags.track is not None:
            values["trkn"] = [tags.track]
        if tags.cover is not None:
            kind = MP4Cover.FORMAT_PNG if cover_mime(tags.cover) == "image/png" else MP4Cover.FORMAT_JPEG
            values["covr"] = [MP4Cover(tags.cover.read_bytes(), imageformat=kind)]
        if audiobook:
            values["stik"] = [_AUDIOBOOK]
        file.save()
    except (MutagenError, OSError) as exc:
        raise OutputError(f"cannot write tags: {exc}", "check that the file is a writable MP4", path=str(path)) from None
