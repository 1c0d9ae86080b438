"""Cover artwork podcast apps accept: square, 1400–3000 px (Apple's rule), generated when none is given.

`generated_cover` draws a calm 3000×3000 PNG (a soft gradient, a quiet sun with ripples, the title
and the practitioner's name) that depends only on its inputs, byte for byte. `fitted_cover` returns a
given cover as it is when apps accept it, else a copy letterboxed to a square and scaled into
1400–3000 px. Both write into a folder of their own (the speech cache's `covers/`), named by what
they were made from, so a re-run finds the same file and the tracks it is embedded in stay unchanged.
Pillow is imported here only, when a cover is made or measured.
"""

from __future__ import annotations

import functools
import hashlib
import textwrap
from pathlib import Path

import numpy as np

from ..errors import SettingsError
from ..system.atomic import atomic_path
from .cover import cover_mime

#: Apple's artwork rule: square, from 1400×1400 to 3000×3000 pixels.
MIN_COVER_PX = 1400
MAX_COVER_PX = 3000
#: The generated cover's side, and the size it stays under (NPR One's and Spotify's limit).
GENERATED_PX = 3000
GENERATED_MAX_BYTES = 512 * 1024
#: Part of every generated file's name: a change to the drawing makes new files, never stale ones.
_DESIGN_VERSION = "1"

#: Calm palettes: (top of the gradient, bottom, the sun and ripples, the text).
_PALETTES = (
    ((38, 52, 84), (112, 108, 150), (236, 214, 186), (246, 240, 232)),  # dusk
    ((46, 78, 74), (146, 168, 140), (240, 228, 196), (248, 246, 236)),  # sage
    ((30, 64, 92), (120, 160, 176), (232, 236, 222), (244, 248, 248)),  # lake
    ((84, 58, 78), (196, 150, 148), (248, 226, 204), (252, 244, 238)),  # rose
)


def cover_size(path: Path) -> tuple[int, int]:
    """The image's (width, height) in pixels; SettingsError naming the file if Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError) as exc:
        raise SettingsError(f"the cover image cannot be read: {exc}", "use a PNG or JPEG image", path=str(path)) from None


def cover_problem(size: tuple[int, int]) -> str | None:
    """What podcast apps refuse in an image of `size`, or None when it is square and 1400–3000 px."""
    width, height = size
    if width != height:
        return f"is {width}×{height} px, not square"
    if width < MIN_COVER_PX:
        return f"is {width}×{height} px, under the {MIN_COVER_PX}×{MIN_COVER_PX} px podcast apps ask for"
    if width > MAX_COVER_PX:
        return f"is {width}×{height} px, over the {MAX_COVER_PX}×{MAX_COVER_PX} px podcast apps accept"
    return None


def fitted_side(size: tuple[int, int]) -> int:
    """The side of the square a cover of `size` is fitted to: its longer side, within 1400–3000 px."""
    return min(max(max(size), MIN_COVER_PX), MAX_COVER_PX)


def fitted_cover(path: Path, folder: Path) -> Path:
    """`path` if podcast apps accept it as it is, else a copy in `folder`, letterboxed to a square (on the
    colour of the image's edge) and scaled into 1400–3000 px, in the original's format."""
    from PIL import Image

    path = Path(path)
    size = cover_size(path)
    if cover_problem(size) is None:
        return path
    png = cover_mime(path) == "image/png"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    target = Path(folder) / f"fitted-{_DESIGN_VERSION}-{digest}{'.png' if png else '.jpg'}"
    if target.is_file():
        return target
    with Image.open(path) as original:
        image = original.convert("RGB")
    width, height = image.size
    side = max(width, height)
    pixels = np.asarray(image)
    edge = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    canvas = Image.new("RGB", (side, side), tuple(int(v) for v in np.median(edge, axis=0)))
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    final = fitted_side(size)
    if final != side:
        canvas = canvas.resize((final, final), Image.Resampling.LANCZOS)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        if png:
            canvas.save(tmp, format="PNG", optimize=True)
        else:
            canvas.save(tmp, format="JPEG", quality=90, optimize=True)
    return target


def generated_cover(title: str, practitioner: str, folder: Path) -> Path:
    """The generated cover for `title` by `practitioner`, in `folder` (drawn once; the same inputs give the same bytes)."""
    key = hashlib.sha256(f"{_DESIGN_VERSION}\n{title}\n{practitioner}".encode()).hexdigest()
    target = Path(folder) / f"cover-{_DESIGN_VERSION}-{key[:20]}.png"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_bytes(draw_cover(title, practitioner))
    return target


@functools.lru_cache(maxsize=4)
def draw_cover(title: str, practitioner: str, side: int = GENERATED_PX) -> bytes:
    """A calm square cover as PNG bytes: a gradient, a soft sun with three ripples, the title and the name.
    The palette is chosen by the title, so different courses look different."""
    from PIL import Image, ImageDraw

    top, bottom, sun, ink = _PALETTES[int(hashlib.sha256(title.encode()).hexdigest(), 16) % len(_PALETTES)]
    # The gradient, one colour per row (rows that repeat compress to almost nothing in a PNG).
    t = np.linspace(0.0, 1.0, side, dtype=np.float32)[:, None]
    rows = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    pixels = np.repeat(np.round(rows).astype(np.uint8)[:, None, :], side, axis=1)
    # The sun and its ripples, anti-aliased from the distance to the centre (only in their square).
    cx, cy = side / 2, side * 0.40
    radius = side * 0.15
    reach = int(radius + 3 * side * 0.055 + side * 0.01)
    y0, y1, x0, x1 = int(cy) - reach, int(cy) + reach, int(cx) - reach, int(cx) + reach
    y, x = np.ogrid[y0:y1, x0:x1]
    distance = np.sqrt((x - cx) ** 2 + (y - cy) ** 2, dtype=np.float32)
    alpha = np.clip(radius - distance + 0.5, 0.0, 1.0) * 0.92
    for k, strength in ((1, 0.45), (2, 0.30), (3, 0.18)):
        ring = radius + k * side * 0.055
        alpha = np.maximum(alpha, np.clip(side * 0.0035 - np.abs(distance - ring) + 0.5, 0.0, 1.0) * strength)
    under = pixels[y0:y1, x0:x1].astype(np.float32)
    mixed = under * (1 - alpha[..., None]) + np.asarray(sun, np.float32) * alpha[..., None]
    pixels[y0:y1, x0:x1] = np.round(mixed).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    y_text = side * 0.665
    for size_px, text, width_chars in ((side // 15, title, 20), (side // 26, practitioner, 34)):
        font = _font(size_px)
        for line in textwrap.wrap(text, width_chars)[:3]:
            box = draw.textbbox((0, 0), line, font=font)
            draw.text(((side - (box[2] - box[0])) / 2 - box[0], y_text), line, font=font, fill=ink)
            y_text += size_px * 1.25
        y_text += size_px * 0.6
    out = _png_bytes(image)
    if len(out) > GENERATED_MAX_BYTES:  # pragma: no cover - measured at about 240 KB; a guard for odd titles
        image = image.quantize(colors=128, dither=Image.Dither.NONE).convert("RGB")
        out = _png_bytes(image)
    return out


def _font(size_px: int):
    """Pillow's own scalable font (Aileron, inside Pillow: no system font, the same everywhere)."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size_px)


def _png_bytes(image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
