"""Safe names for files and folders, made from people's names and titles."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG_CHARS = 60


def slugify(name: str, *, fallback: str = "client") -> str:
    """A safe file name part: lowercase ASCII letters, digits and single dashes, at most 60 characters.

    `Zoë Smith` → `zoe-smith`, `../../x` → `x`, `<script>alert(1)</script>` → `script-alert-1-script`;
    text with no usable characters gives `fallback`.
    """
    ascii_text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    slug = slug[:MAX_SLUG_CHARS].rstrip("-")
    return slug or fallback
