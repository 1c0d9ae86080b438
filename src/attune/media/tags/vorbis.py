"""Vorbis comments for Opus and FLAC: TITLE, ARTIST, ALBUM, COMMENT, TRACKNUMBER, the cover as a FLAC
picture (in Opus, base64 in METADATA_BLOCK_PICTURE), and chapters as CHAPTERxxx / CHAPTERxxxNAME.

ffmpeg reads those chapters back; Attune writes them itself because ffmpeg's own Ogg chapters
round the seconds (12.5 s is written as 00:00:13.500) and its FLAC muxer writes none.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.flac import FLAC, Picture
from mutagen.oggopus import OggOpus

from ...errors import OutputError
from ..cover import cover_mime
from .model import Tags

_FRONT_COVER = 3


def chapter_time(seconds: float) -> str:
    """`HH:MM:SS.mmm`, to the millisecond: 12.5 → `00:00:12.500`."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def write_vorbis(path: Path, tags: Tags, fmt: str) -> None:
    try:
        file = OggOpus(str(path)) if fmt == "opus" else FLAC(str(path))
        if file.tags is None:
            file.add_tags()
        comments: Any = file.tags  # VComment (Opus) or VCFLACDict (FLAC): a mapping of lists of text
        comments.clear()  # the encoder's own comment goes too
        comments.vendor = "Attune"
        comments["TITLE"] = tags.title
        for key, value in (("ARTIST", tags.artist), ("ALBUM", tags.album), ("COMMENT", tags.comment)):
            if value:
                comments[key] = value
        if tags.track is not None:
            comments["TRACKNUMBER"] = str(tags.track[0])
            comments["TRACKTOTAL"] = str(tags.track[1])
        for number, chapter in enumerate(tags.chapters, start=1):
            comments[f"CHAPTER{number:03d}"] = chapter_time(chapter.start_s)
            comments[f"CHAPTER{number:03d}NAME"] = chapter.title
        if tags.cover is not None:
            picture = Picture()
            picture.type = _FRONT_COVER
            picture.mime = cover_mime(tags.cover)
            picture.desc = "Cover"
            picture.data = tags.cover.read_bytes()
            if isinstance(file, FLAC):
                file.clear_pictures()
                file.add_picture(picture)
            else:
                comments["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture.write()).decode("ascii")
        file.save()
    except (MutagenError, OSError) as exc:
        raise OutputError(f"cannot write tags: {exc}", f"check that the file is a writable {fmt} file", path=str(path)) from None
