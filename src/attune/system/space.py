"""Room on the disk: what an output will need, what its folder has, and the one error a full disk gives.

A full disk shows itself three ways, all turned into one `NoSpaceError` naming the folder: an
OSError (ENOSPC, EDQUOT; EFBIG under a file-size limit, since Python ignores SIGXFSZ), an ffmpeg
that says so on stderr, and an ffmpeg killed by SIGXFSZ (its children get the default action back).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
from pathlib import Path

from ..errors import NoSpaceError

#: The errors of a write that ran out of room: the device, the user's quota, or the file-size limit.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: What ffmpeg prints for the same (its strerror), and how it dies under `ulimit -f`.
_FFMPEG_SAYS = ("No space left on device", "Disk quota exceeded", "File too large")
_SIGXFSZ = getattr(signal, "SIGXFSZ", None)


def is_no_space(exc: BaseException | None) -> bool:
    """`exc` is a write that ran out of room, or was raised on account of one: the error a tag writer
    made of it (mutagen wraps the OSError in its own, then Attune in an OutputError)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, NoSpaceError) or (isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS):
            return True
        if exc.args and isinstance(exc.args[0], OSError) and exc.args[0].errno in NO_SPACE_ERRNOS:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def ffmpeg_ran_out(returncode: int | None, stderr_tail: str) -> bool:
    """An ffmpeg that stopped because its output could not grow."""
    return (_SIGXFSZ is not None and returncode == -_SIGXFSZ) or any(text in stderr_tail for text in _FFMPEG_SAYS)


def free_bytes(folder: Path) -> int | None:
    """What can still be written in `folder` (None when the system cannot say)."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def file_size_limit() -> int | None:
    """The largest file this process may write (`ulimit -f`), or None for no limit."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def megabytes(n_bytes: float) -> str:
    """`0.5 MB`, `77.2 GB`: decimal units, as `df -H` and file managers show them."""
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.1f} MB"


def no_space(folder: Path, needed_bytes: int | None, *, what: str | None = None, done: str | None = None, again: str = "run again") -> NoSpaceError:
    """The error for a full disk under `folder`: what was being written, about how much it needs and
    what is free (each when known), and what to do. `done` says what was kept (a batch's finished tracks)."""
    folder = Path(folder)
    free = free_bytes(folder)
    limit = file_size_limit()
    figures = []
    if needed_bytes is not None:
        figures.append(f"needs about {megabytes(needed_bytes)}")
    if free is not None:
        figures.append(f"{megabytes(free)} free")
    if limit is not None and (needed_bytes is None or limit < needed_bytes):
        figures.append(f"files are limited to {megabytes(limit)} here (ulimit -f)")
    message = f"no space left to write {what}" if what else "no space left on the device"
    if figures:
        message += f" ({', '.join(figures)})"
    if done:
        message += f"; {done}"
    free_some = "free some space (or raise `ulimit -f`)" if limit is not None else "free some space"
    hint = f"{free_some} or choose another folder with -o, then {again}"
    return NoSpaceError(message, hint, path=str(folder))


def check_space(folder: Path, needed_bytes: int, what: str) -> None:
    """Fail at once, before any audio work, when `folder` plainly has less room than `needed_bytes`."""
    free = free_bytes(folder)
    if free is not None and free < needed_bytes:
        raise no_space(folder, needed_bytes, what=what)


def folder_of(path: Path) -> Path:
    parent = Path(path).parent
    return parent if str(parent) else Path(os.curdir)
