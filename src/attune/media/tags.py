"""ID3v2.4 tags for finished MP3s: title, artist, album, comment, track number, cover and chapters.

Written with mutagen because ffmpeg cannot write a CTOC frame (ffmpeg trac #7940), and podcast
apps need the CTOC to find the CHAP frames (ID3v2 Chapter Frame Addendum 1.0). The whole tag is
replaced: whatever ffmpeg wrote (an `encoder` TSSE, a stray title) is dropped.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mutagen import MutagenError
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TIT2,
    TPE1,
    TRCK,
    CTOCFlags,
    Encoding,
    ID3NoHeaderError,
    ID3v1SaveOptions,
    PictureType,
)

from ..errors import OutputError, SettingsError
from ..system.atomic import atomic_path

#: The largest cover image Attune embeds (every copy of the track carries it).
MAX_COVER_BYTES = 5 * 1024 * 1024

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
#: CHAP byte offsets are unused; the addendum says to write 0xFFFFFFFF then.
_NO_OFFSET = 0xFFFFFFFF


@dataclass(frozen=True)
class Chapter:
    """One section of a track, from `start_s` to `end_s` seconds."""

    title: str
    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if not (0 <= self.start_s <= self.end_s):
            raise ValueError(f"chapter {self.title!r} runs from {self.start_s}s to {self.end_s}s")


def cover_mime(path: Path) -> str:
    """`image/png` or `image/jpeg` for a cover that passes `check_cover`."""
    check_cover(path)
    with open(path, "rb") as handle:
        head = handle.read(len(_PNG_MAGIC))
    return "image/png" if head.startswith(_PNG_MAGIC) else "image/jpeg"


def check_cover(path: Path) -> None:
    """Raise `SettingsError` naming the file unless it is a PNG or JPEG of at most 5 MB."""
    path = Path(path)
    hint = "use a PNG or JPEG image of at most 5 MB"
    if not path.exists():
        raise SettingsError("the cover image does not exist", hint, path=str(path))
    if not path.is_file():
        raise SettingsError("the cover image is not a file", hint, path=str(path))
    size = path.stat().st_size
    if size > MAX_COVER_BYTES:
        raise SettingsError(f"the cover image is {size / 1024 / 1024:.1f} MB, over the 5 MB limit", "use a smaller PNG or JPEG image", path=str(path))
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_PNG_MAGIC))
    except OSError as exc:
        raise SettingsError(f"the cover image cannot be read: {exc.strerror}", hint, path=str(path)) from None
    if not (head.startswith(_PNG_MAGIC) or head.startswith(_JPEG_MAGIC)):
        raise SettingsError("the cover image is not a PNG or JPEG file", hint, path=str(path))


def write_tags(
    mp3_path: Path,
    *,
    title: str,
    artist: str | None = None,
    album: str | None = None,
    comment: str | None = None,
    track: tuple[int, int] | None = None,
    cover: Path | None = None,
    chapters: Sequence[Chapter] = (),
) -> None:
    """Replace the whole ID3 tag of `mp3_path` (in place) with an ID3v2.4 tag; remove any ID3v1 tag."""
    if track is not None:
        number, total = track
        if not (1 <= number <= total):
            raise ValueError(f"track {number}/{total} is out of range")
    picture = None
    if cover is not None:
        mime = cover_mime(Path(cover))
        picture = APIC(encoding=Encoding.UTF8, mime=mime, type=PictureType.COVER_FRONT, desc="", data=Path(cover).read_bytes())

    tag = ID3()
    tag.add(TIT2(encoding=Encoding.UTF8, text=[title]))
    if artist:
        tag.add(TPE1(encoding=Encoding.UTF8, text=[artist]))
    if album:
        tag.add(TALB(encoding=Encoding.UTF8, text=[album]))
    if comment:
        tag.add(COMM(encoding=Encoding.UTF8, lang="eng", desc="", text=[comment]))
    if track is not None:
        tag.add(TRCK(encoding=Encoding.UTF8, text=[f"{track[0]}/{track[1]}"]))
    if picture is not None:
        tag.add(picture)
    child_ids = []
    for index, chapter in enumerate(chapters):
        element_id = f"chp{index}"
        child_ids.append(element_id)
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
    if child_ids:
        tag.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=child_ids,
                sub_frames=[TIT2(encoding=Encoding.UTF8, text=[title])],
            )
        )
    try:
        # Saving a fresh tag replaces the old ID3v2 tag byte range; v1=REMOVE drops an ID3v1 tail.
        tag.save(str(mp3_path), v1=ID3v1SaveOptions.REMOVE, v2_version=4)
    except (MutagenError, OSError) as exc:
        raise OutputError(f"cannot write tags: {exc}", "check that the file is a writable MP3", path=str(mp3_path)) from None


def set_title(mp3_path: Path, title: str) -> None:
    """Change the title (TIT2, and the table of contents' title) of a tagged MP3, keeping every other frame; atomic."""
    mp3_path = Path(mp3_path)
    with atomic_path(mp3_path) as tmp:
        shutil.copyfile(mp3_path, tmp)
        try:
            try:
                tag = ID3(str(tmp))
            except ID3NoHeaderError:
                tag = ID3()
            tag.setall("TIT2", [TIT2(encoding=Encoding.UTF8, text=[title])])
            for toc in tag.getall("CTOC"):
                toc.sub_frames.setall("TIT2", [TIT2(encoding=Encoding.UTF8, text=[title])])
            tag.save(str(tmp), v1=ID3v1SaveOptions.REMOVE, v2_version=4)
        except MutagenError as exc:
            raise OutputError(f"cannot write tags: {exc}", "check that the file is a writable MP3", path=str(mp3_path)) from None
