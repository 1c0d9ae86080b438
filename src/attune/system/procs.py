"""Start child processes (ffmpeg, the speech worker) so that an interrupt cannot orphan them.

A Ctrl-C that lands between fork and `Popen` returning would leave a child nobody will stop (an
orphaned ffmpeg even recreates the temporary file its parent just removed). While the child starts,
SIGINT and SIGTERM are only noted; once `Popen` has returned, the new child is stopped and the
signal is handled as it would have been. (Blocking the signals instead would leave them blocked in
the child, which inherits the signal mask.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


def start(argv: list[str], **kwargs) -> subprocess.Popen:
    """`subprocess.Popen(argv, **kwargs)`, atomic with respect to SIGINT and SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return subprocess.Popen(argv, **kwargs)
    caught: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum)) for signum in _DEFERRED}
    try:
        proc = subprocess.Popen(argv, **kwargs)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for number in caught:
        signum = signal.Signals(number)
        handler = previous[signum]
        if handler == signal.SIG_IGN:
            continue
        proc.kill()
        proc.wait()
        if callable(handler):
            handler(signum, None)  # raises KeyboardInterrupt (Ctrl-C, and SIGTERM in the CLI)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os.kill(os.getpid(), signum)
    return proc
