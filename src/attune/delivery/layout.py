"""Where a batch writes: every path is built from slugs and checked to stay inside the output folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import OutputError


def inside(root: Path, path: Path) -> Path:
    """`path` resolved, or OutputError when it is not inside `root` (which must be resolved)."""
    resolved = Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise OutputError(f"refusing to write {path}: it is outside {root}", "check the roster's names and the output folder", path=str(path))
    return resolved


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def output_root(out_dir: Path) -> Path:
    """Create the output folder if needed; return it resolved."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", "choose another folder with -o", path=str(out_dir)) from None
    if not out_dir.is_dir():
        raise OutputError("the output path is not a folder", "choose a folder with -o", path=str(out_dir))
    return out_dir.resolve()
