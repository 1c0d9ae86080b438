"""Several workers of one engine, so that a cold render speaks distinct sentences on every core at once.

`WorkerPool` hands out engine workers (`attune.speech.worker.WorkerClient`) to threads: an idle one
if there is one, else a new one, up to `size`. Workers start on first use, so a warm render with
one new sentence starts one. `speech_jobs()` says how many a process should run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator

from .worker import EngineStopped, WorkerClient


def speech_jobs() -> int:
    """How many sentences to synthesise at once: `$ATTUNE_SPEECH_JOBS`, else one per core.

    A process started by multiprocessing (a batch's pool worker, a cluster worker) speaks one
    sentence at a time: its siblings already fill the other cores, and each keeps one voice model.
    """
    env = os.environ.get("ATTUNE_SPEECH_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Up to `size` workers made by `factory`, each used by one thread at a time."""

    def __init__(self, factory: Callable[[], WorkerClient], size: int):
        self._factory = factory
        self.size = max(1, size)
        self._all: list[WorkerClient] = []
        self._idle: list[WorkerClient] = []
        self._cond = threading.Condition()
        #: Set by `cancel()` until `close()`: no worker is handed out or started.
        self._cancelled = False

    @contextlib.contextmanager
    def client(self) -> Iterator[WorkerClient]:
        """A worker for the calling thread alone, until the block ends."""
        with self._cond:
            while not self._cancelled and not self._idle and len(self._all) >= self.size:
                self._cond.wait()
            if self._cancelled:
                raise EngineStopped
            if self._idle:
                worker = self._idle.pop()
            else:
                worker = self._factory()
                self._all.append(worker)
        try:
            yield worker
        finally:
            with self._cond:
                if worker in self._all:
                    self._idle.append(worker)
                self._cond.notify()

    @property
    def workers(self) -> list[WorkerClient]:
        with self._cond:
            return list(self._all)

    def cancel(self) -> None:
        """Kill every worker now and hand out none until `close()`: each request in flight, and each
        thread waiting for a worker, fails at once (an interrupt stops in milliseconds, not when the
        sentence or the pace measurement being made would have ended)."""
        with self._cond:
            self._cancelled = True
            workers, self._all, self._idle = self._all, [], []
            self._cond.notify_all()
        for worker in workers:
            worker.cancel()

    def close(self) -> None:
        """Stop every worker (a later request starts new ones, also after `cancel()`)."""
        with self._cond:
            workers, self._all, self._idle = self._all, [], []
            self._cancelled = False
            self._cond.notify_all()
        # All at once: a busy worker gets two seconds to finish before it is killed, and they wait together.
        stoppers = [threading.Thread(target=worker.close) for worker in workers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
