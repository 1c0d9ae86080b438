"""Where Attune keeps things on this machine: the cache folder (speech clips, voice listings) and the
data folder (installed Piper voices). Light: no import beyond the standard library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def default_cache_dir() -> Path:
    """`$ATTUNE_CACHE_DIR`, else `$XDG_CACHE_HOME/attune`, else `~/.cache/attune`."""
    if os.environ.get("ATTUNE_CACHE_DIR"):
        return Path(os.environ["ATTUNE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attune"


def user_data_dir() -> Path:
    """`attune` under the user's data folder: `$XDG_DATA_HOME` or `~/.local/share`;
    `~/Library/Application Support` on macOS, `%APPDATA%` on Windows."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "attune"
