"""Cover art: a PNG or JPEG of at most 5 MB, checked before any audio work (light: no mutagen)."""

from __future__ import annotations

from pathlib import Path

from ..errors import SettingsError

#: The largest cover image Attune embeds (every copy of the track carries it).
MAX_COVER_BYTES = 5 * 1024 * 1024

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


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
