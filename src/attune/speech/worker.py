"""A speech engine in a child process: started on first use, one JSON request per line, with time limits.

Engines are known to hang or to write empty or truncated files (pyttsx3 issues #142, #194, #283).
Running each in a child process lets the parent put a time limit on every request and stop a hung
engine without losing itself. Every engine gets the same isolation: its worker module reads one JSON
object per line on stdin and answers one per line on stdout (`{"op": "hello"}` first).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import IO

from ..errors import SpeechError
from ..system import procs

#: Seconds an engine gets to start, and to speak one sentence (plus CHAR_TIMEOUT_S a character).
START_TIMEOUT_S = 60.0
SPEAK_TIMEOUT_S = float(os.environ.get("ATTUNE_SPEECH_TIMEOUT_S", "30"))
CHAR_TIMEOUT_S = 0.05


class EngineStopped(SpeechError):
    """A request refused because its engine was cancelled (`WorkerClient.cancel`, `WorkerPool.cancel`):
    the failure or interrupt that cancelled it is the one to report."""

    def __init__(self) -> None:
        super().__init__("the speech engine was stopped", "run the command again")


class WorkerClient:
    """The parent's side of one engine worker process (`python -m MODULE`)."""

    def __init__(self, module: str, worker_argv: Sequence[str] | None = None, hello: dict | None = None):
        self._argv = list(worker_argv or [sys.executable, "-m", module])
        self._hello = dict(hello or {})
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()
        self._stderr: IO[bytes] | None = None
        #: Set by `cancel()`: this client starts no process again, and one still starting is stopped.
        self._cancelled = False
        self._proc_lock = threading.Lock()
        #: What the worker said when it started (engine, library, versions).
        self.hello: dict = {}

    def _start(self) -> None:
        if self._cancelled:
            raise EngineStopped
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; closed in close()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            proc = procs.start(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                bufsize=1,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise SpeechError(f"the speech engine could not start: {exc}", "run `attune doctor`") from None
        with self._proc_lock:
            self._proc, cancelled = proc, self._cancelled
        if cancelled:  # cancelled while the process was being started: it never gets to work
            self.close(kill=True)
            raise EngineStopped
        stdout = proc.stdout
        assert stdout is not None  # stdout=PIPE

        replies = self._replies  # this process's replies (close() gives the next process a new queue)

        def pump() -> None:
            for line in stdout:
                replies.put(line)
            replies.put(None)

        threading.Thread(target=pump, daemon=True).start()
        reply = self._request({"op": "hello", **self._hello_payload()}, START_TIMEOUT_S, "starting")
        if not reply.get("ok"):
            self.close()
            raise SpeechError(reply.get("error", "the speech engine could not start"), reply.get("hint") or "run `attune doctor`")
        self.hello = reply

    @staticmethod
    def speak_timeout_s(text: str) -> float:
        """The time limit for speaking `text` (read at call time, so it can be set per process)."""
        return SPEAK_TIMEOUT_S + CHAR_TIMEOUT_S * len(text)

    def _hello_payload(self) -> dict:
        """Extra fields of the first request (an engine's worker may need to know what to load)."""
        return self._hello

    def _stderr_tail(self) -> str:
        stderr = self._stderr
        try:
            stderr.seek(0)  # type: ignore[union-attr]
            text = stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):  # none, or closed by a `close()` in another thread
            return ""
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("Audio saved")]
        return lines[-1].strip() if lines else ""

    def request(self, payload: dict, timeout_s: float, doing: str) -> dict:
        """Send one request and wait up to `timeout_s` for its reply (the worker starts on first use)."""
        return self._request(payload, timeout_s, doing)

    @property
    def running(self) -> bool:
        return self._proc is not None

    @property
    def pid(self) -> int | None:
        """The worker process's id while it runs."""
        return self._proc.pid if self._proc is not None else None

    def _request(self, payload: dict, timeout_s: float, doing: str) -> dict:
        if self._proc is None:
            self._start()
        # The process and its reply queue together: a `close()` or `cancel()` from another thread
        # after this point ends this wait at once (it puts None on this queue).
        with self._proc_lock:
            proc, replies = self._proc, self._replies
        if proc is None or proc.stdin is None:  # stopped meanwhile
            raise EngineStopped
        try:
            proc.stdin.write(json.dumps(payload) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the worker died or was stopped (its input closed); the reply queue reports it below
        try:
            line = replies.get(timeout=timeout_s)
        except queue.Empty:
            self.close(kill=True)  # a hung engine will not answer: no grace period
            raise SpeechError(
                f"the speech engine did not answer within {timeout_s:.0f}s while {doing}", "try again; if it keeps hanging, run `attune doctor`"
            ) from None
        if line is None:
            tail = self._stderr_tail()
            self.close()
            raise SpeechError(f"the speech engine stopped while {doing}" + (f" ({tail})" if tail else ""), "run `attune doctor`")
        return json.loads(line)

    def cancel(self) -> None:
        """Stop the worker now (killed, not asked), and never start it again: a request waiting for it
        fails at once. For an interrupt, or a failure that makes the work in flight pointless."""
        with self._proc_lock:
            self._cancelled = True
        self.close(kill=True)

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker: end its input and give it two seconds to leave (none with `kill`), then kill it."""
        with self._proc_lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                proc.wait(timeout=0 if kill else 2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        # A request still waiting (in another thread) hears at once that the worker has stopped.
        with self._proc_lock:
            stopped, self._replies = self._replies, queue.Queue()
        stopped.put(None)
