"""What a render is asked to do (`RenderRequest`), and a fingerprint of everything that decides its output.

Kept apart from the renderer, and light to import (no numpy, no scipy): a batch's parent process
builds requests and compares fingerprints while its worker processes do the rendering.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .espeak import engine_description

DEFAULT_LOUDNESS_LUFS = -16.0


@dataclass(frozen=True)
class RenderRequest:
    """Everything a render needs; None means "the script's own setting, else Attune's default"."""

    script_path: Path
    output_path: Path | None = None
    length_s: float | None = None
    voice: str | None = None
    rate_wpm: float | None = None
    pitch: int | None = None
    background: Any = None
    background_db: float | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    fmt: str = "mp3"
    bitrate: str = "128k"
    loudness_lufs: float = DEFAULT_LOUDNESS_LUFS
    bells: bool | None = None
    captions: bool = False
    cover: Path | None = None
    artist: str | None = None
    album: str | None = None
    track: tuple[int, int] | None = None


def _file_digest(path: Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def request_fingerprint(request: RenderRequest) -> str:
    """A content hash of everything that decides the output: script bytes, settings, assets, engine, version."""
    settings = asdict(request)
    settings.pop("output_path")
    settings["script_path"] = _file_digest(request.script_path) or str(request.script_path)
    settings["cover"] = _file_digest(request.cover)
    background = request.background
    if isinstance(background, str) and Path(background).is_file():
        settings["background"] = _file_digest(Path(background))
    material = json.dumps([__version__, engine_description(), settings], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def default_cache_dir() -> Path:
    """`$ATTUNE_CACHE_DIR`, else `$XDG_CACHE_HOME/attune`, else `~/.cache/attune`."""
    if os.environ.get("ATTUNE_CACHE_DIR"):
        return Path(os.environ["ATTUNE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attune"
