"""Start child processes (ffmpeg, the speech worker) so that an interrupt cannot orphan them.

A Ctrl-C that lands between fork and `Popen` returning would leave a child nobody will stop (an
orphaned ffmpeg even recreates the temporary file its parent just removed). SIGINT and SIGTERM are
held back while the child starts; if one was pending, the child is stopped before it is re-raised.
"""

from __future__ import annotations

import signal
import subprocess
import threading

_DEFERRED = {signal.SIGINT, signal.SIGTERM}


def start(argv: list[str], **kwargs) -> subprocess.Popen:
    """`subprocess.Popen(argv, **kwargs)`, atomic with respect to SIGINT and SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return subprocess.Popen(argv, **kwargs)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    proc = None
    try:
        proc = subprocess.Popen(argv, **kwargs)
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a pending signal is handled here
        except BaseException:
            if proc is not None:
                proc.kill()
                proc.wait()
            raise
    return proc
