"""One run at a time per output: an advisory lock (flock) on a small file that names its holder.

The holder's pid, host and start time are written in the file, so a second run can say who holds
it. The kernel releases a flock when the last descriptor of it closes, so a holder that dies (even
by SIGKILL) leaves at worst the file, never a held lock; the next holder takes the file over and
removes it when done. Where there is no flock (Windows), nothing is locked.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: read from its file (any field may be missing in a file being written)."""

    pid: int | None = None
    host: str | None = None
    started: str | None = None
    what: str | None = None

    @property
    def alive(self) -> bool | None:
        """The holder's process is still running (None: it is on another host, or unknown)."""
        if self.pid is None or (self.host is not None and self.host != socket.gethostname()):
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        """`pid 1234, started 2026-12-03 14:40:02 UTC (35 s ago)`, with what is known."""
        parts = [f"pid {self.pid}" if self.pid is not None else "pid unknown"]
        if self.host is not None and self.host != socket.gethostname():
            parts[0] += f" on {self.host}"
        if self.started:
            with contextlib.suppress(ValueError):
                started = datetime.fromisoformat(self.started)
                ago = max(0, round((datetime.now(UTC) - started).total_seconds()))
                parts.append(f"started {started:%Y-%m-%d %H:%M:%S} UTC ({ago} s ago)")
        if self.alive is False:
            parts.append("its own process is gone and its workers are stopping")
        return ", ".join(parts)


class Held(Exception):
    """The lock is held by someone else."""

    def __init__(self, path: Path, holder: Holder):
        super().__init__(f"{path} is held by {holder.describe()}")
        self.path, self.holder = path, holder


def read_holder(path: Path) -> Holder:
    for _ in range(20):  # a holder writes its name just after it locks: give it a moment
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            return Holder(data.get("pid"), data.get("host"), data.get("started"), data.get("what"))
        time.sleep(0.01)
    return Holder()


def _lock_file(path: Path) -> int | None:
    """A descriptor of the file at `path` (created if missing), locked; None when another holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # The last holder removes the file as it leaves: if it did so between our open and our flock,
        # we hold a file nobody else can see; lock the one now at the path instead.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def hold(path: Path, what: str, *, wait_for_dead_s: float = 10.0) -> Iterator[int | None]:
    """Hold the lock at `path` for the block (yields its descriptor); raises `Held` naming the holder.

    A holder whose own process is gone but whose lock is still held (its worker processes, which
    share the descriptor, are stopping) is waited for, up to `wait_for_dead_s`."""
    path = Path(path)
    if fcntl is None:
        yield None
        return
    deadline = time.monotonic() + wait_for_dead_s
    while True:
        fd = _lock_file(path)
        if fd is not None:
            break
        holder = read_holder(path)
        if holder.alive is not False or time.monotonic() > deadline:
            raise Held(path, holder)
        time.sleep(0.05)
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": started, "what": what}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        yield fd
    finally:
        # Removed while still held, so no one can lock it between; then the kernel releases it.
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
