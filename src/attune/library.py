"""What ships inside the package: the practice library and the bundled sounds.

Both are package data (`attune/practices/`, `attune/sounds/`), so a plain `pip install` carries them.
A built-in practice is named by its file stem (`attune render loving-kindness`) from any folder; a
local file of the same name wins. A bundled sound is named by its file name (`soft-rain.ogg`) when
no file of that name is found where the script or roster is.
"""

from __future__ import annotations

from pathlib import Path

PRACTICES_DIR = Path(__file__).resolve().parent / "practices"
SOUNDS_DIR = Path(__file__).resolve().parent / "sounds"
#: Script suffixes, in the order a bare name is tried.
_PRACTICE_SUFFIXES = (".yaml", ".yml", ".md", ".txt")
#: Sound-file suffixes of the bundled sounds (ffmpeg decodes more).
SOUND_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")


def practices() -> list[Path]:
    """The built-in practices, by name."""
    if not PRACTICES_DIR.is_dir():
        return []
    return sorted((p for p in PRACTICES_DIR.iterdir() if p.suffix in _PRACTICE_SUFFIXES), key=lambda p: p.stem)


def practice_names() -> list[str]:
    return [p.stem for p in practices()]


def resolve_script(script: str | Path) -> Path:
    """The script file `script` names: a path that exists, else a built-in practice of that name
    (`loving-kindness` or `loving-kindness.yaml`), else the path as given (reading it then says it
    does not exist)."""
    given = Path(script)
    if given.exists() or len(given.parts) != 1:
        return given
    for practice in practices():
        if given.name in (practice.stem, practice.name):
            return practice
    return given


def bundled_sounds() -> list[str]:
    """File names of the bundled sounds."""
    if not SOUNDS_DIR.is_dir():
        return []
    return sorted(p.name for p in SOUNDS_DIR.iterdir() if p.suffix.lower() in SOUND_SUFFIXES)


def bundled_sound(name: str) -> Path | None:
    """The bundled sound called `name` (a bare file name), or None."""
    if len(Path(name).parts) != 1:
        return None
    candidate = SOUNDS_DIR / name
    return candidate if candidate.is_file() and candidate.suffix.lower() in SOUND_SUFFIXES else None
