"""`attune render --section NAME`: the script with only the sections named, and the file name it plays under."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import SettingsError
from ..slugs import slugify
from .model import Script


def select_sections(script: Script, names: Sequence[str]) -> Script:
    """The script with only the sections named (by name, any case, or by slug), in the script's order;
    no length and no opening or closing bells: what `attune render --section` plays."""
    wanted = {_norm(name) for name in names}
    known = {_norm(s.name) for s in script.sections}
    for name in names:
        if _norm(name) not in known:
            listing = ", ".join(repr(s.name) for s in script.sections)
            raise SettingsError(f"no section {name!r} in this script", f"its sections are {listing}", path=script.path)
    sections = tuple(s for s in script.sections if _norm(s.name) in wanted)
    settings = replace(script.settings, length_s=None, bells_start=False, bells_end=False)
    return replace(script, sections=tuple(replace(s, optional=False) for s in sections), settings=settings)


def section_stem(script_path: Path, names: Sequence[str]) -> Path:
    """`output/<stem>-<section>` (several sections: their slugs joined)."""
    slugs = "-".join(slugify(name, fallback="section") for name in names)
    return Path("output") / f"{Path(script_path).stem}-{slugs}"


def _norm(name: str) -> str:
    return slugify(name, fallback="section")
