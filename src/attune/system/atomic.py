"""Write outputs to a temporary file beside the target and rename it into place when complete.

Every temporary file is registered while it exists, so that an interrupted run (SIGINT or
SIGTERM) can remove them before it exits: nothing half-written is ever left at an output path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError

_live: set[Path] = set()
_lock = threading.Lock()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: mkstemp creates files readable by their owner only; finished outputs get the usual permissions.
_FILE_MODE = 0o666 & ~_current_umask()


def check_writable(path: Path) -> None:
    """Fail early, before any audio work, when `path` cannot be written."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputError(f"the output path {path} is a folder", "give a file name such as out.mp3", path=str(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder {parent}: {exc.strerror}", "choose another output path", path=str(path)) from None
    if not parent.is_dir():
        raise OutputError(f"{parent} is not a folder", "choose another output path", path=str(path))
    if not os.access(parent, os.W_OK):
        raise OutputError(f"the folder {parent} is not writable", "choose another output path or fix its permissions", path=str(path))
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{path} exists and is not writable", "choose another output path or fix its permissions", path=str(path))


@contextlib.contextmanager
def atomic_path(final: Path, suffix: str | None = None, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path in the same folder as `final`; rename it to `final` on success.

    The file gets the usual permissions (0666 less the umask), or `mode`. On any exception
    (including KeyboardInterrupt) the temporary file is removed and `final` is left as it was.
    """
    final = Path(final)
    check_writable(final)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=(suffix if suffix is not None else final.suffix) + ".part", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    with _lock:
        _live.add(tmp)
    try:
        yield tmp
        os.chmod(tmp, _FILE_MODE if mode is None else mode)
        os.replace(tmp, final)
    finally:
        with _lock:
            _live.discard(tmp)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(final: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(final) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(final: Path, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def remove_temporaries() -> None:
    """Remove every temporary file still registered (called when a run is interrupted)."""
    with _lock:
        paths = list(_live)
        _live.clear()
    for tmp in paths:
        with contextlib.suppress(OSError):
            tmp.unlink()
