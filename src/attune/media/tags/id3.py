"""ID3v2.4 tags for MP3: title, artist, album, comment, track number, cover, and CHAP + CTOC chapters.

Podcast apps need the CTOC to find the CHAP frames (ID3v2 Chapter Frame Addendum 1.0), and ffmpeg
cannot write a CTOC (ffmpeg trac #7940). The whole tag is replaced; any ID3v1 tail is removed.
"""

from __future__ import annotations

from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TIT2, TPE1, TRCK, CTOCFlags, Encoding, ID3v1SaveOptions, PictureType

from ...errors import OutputError
from ..cover import cover_mime
from .model import Tags

#: CHAP byte offsets are unused; the addendum says to write 0xFFFFFFFF then.
_NO_OFFSET = 0xFFFFFFFF


def _element_ids(titles: list[str]) -> list[str]:
    """Chapter element ids (internal, never shown) whose CHAP frames grow in size, chapter by chapter.

    mutagen writes frames sorted by encoded size, and ffmpeg lists ID3 chapters in the order of the
    frames in the file: padding each id so that its frame is larger than the one before keeps the
    chapters in time order for every reader."""
    ids: list[str] = []
    previous = -1
    for index, title in enumerate(titles):
        base = f"chp{index}"
        size = len(title.encode("utf-8")) + len(base)
        element_id = base + "_" * max(0, previous + 1 - size)
        ids.append(element_id)
        previous = len(title.encode("utf-8")) + len(element_id)
    return ids


def write_id3(path: Path, tags: Tags) -> None:
    tag = ID3()
    tag.add(TIT2(encoding=Encoding.UTF8, text=[tags.title]))
    if tags.artist:
        tag.add(TPE1(encoding=Encoding.UTF8, text=[tags.artist]))
    if tags.album:
        tag.add(TALB(encoding=Encoding.UTF8, text=[tags.album]))
    if tags.comment:
        tag.add(COMM(encoding=Encoding.UTF8, lang="eng", desc="", text=[tags.comment]))
    if tags.track is not None:
        tag.add(TRCK(encoding=Encoding.UTF8, text=[f"{tags.track[0]}/{tags.track[1]}"]))
    if tags.cover is not None:
        tag.add(APIC(encoding=Encoding.UTF8, mime=cover_mime(tags.cover), type=PictureType.COVER_FRONT, desc="", data=tags.cover.read_bytes()))
    ids = _element_ids([chapter.title for chapter in tags.chapters])
    for element_id, chapter in zip(ids, tags.chapters):
        tag.add(
            CHAP(
                element_id=element_id,
                start_time=round(chapter.start_s * 1000),
                end_time=round(chapter.end_s * 1000),
                start_offset=_NO_OFFSET,
                end_offset=_NO_OFFSET,
                sub_frames=[TIT2(encoding=Encoding.UTF8, text=[chapter.title])],
            )
        )
    if ids:
        tag.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=Encoding.UTF8, text=[tags.title])],
            )
        )
    try:
        # Saving a fresh tag replaces the old ID3v2 tag byte range; v1=REMOVE drops an ID3v1 tail.
        tag.save(str(path), v1=ID3v1SaveOptions.REMOVE, v2_version=4)
    except (MutagenError, OSError) as exc:
        raise OutputError(f"cannot write tags: {exc}", "check that the file is a writable MP3", path=str(path)) from None
