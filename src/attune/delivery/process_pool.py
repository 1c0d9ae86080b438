"""The batch on this machine (`LocalExecutor`): in this process, or in worker processes stopped cleanly.

Workers are forked from a forkserver that has already imported the renderer (numpy, scipy…), so
each starts in milliseconds and none inherits the parent's state; where there is no forkserver
(Windows), they are spawned. Ctrl-C reaches the parent; it stops the workers with SIGTERM, so each
render unwinds and removes its temporary files.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import multiprocessing.context
import multiprocessing.reduction
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import AttuneError
from .executor import BatchPlan, Outcome, Publication, Published, Rendered, Starting, TrackJob, longest_first
from .publish import publish_client
from .store import Store
from .track_job import Job, JobResult, run_job

_worker_busy = False


def _worker_stop(signum, frame) -> None:
    """SIGTERM in a pool worker: a render in progress unwinds (removing its temporary files);
    an idle worker leaves at once and quietly."""
    if _worker_busy:
        raise KeyboardInterrupt
    os._exit(130)


class SharedFd:
    """A descriptor handed to a worker process as it starts (pickled as a duplicate, through the
    forkserver): the worker holds the batch's lock too, so the lock lasts while any worker writes."""

    def __init__(self, fd: int):
        self.fd = fd

    def __reduce__(self):
        return (_adopt_fd, (multiprocessing.reduction.DupFd(self.fd),))


def _adopt_fd(dup) -> SharedFd:
    return SharedFd(dup.detach())


#: The batch lock's descriptor in a worker (kept open for the worker's life).
_held: SharedFd | None = None


def _watch_batch(pid: int) -> None:
    """In a worker: wait for the batch's process to end (a pidfd where there is one, else a poll),
    then stop this worker as the batch would have (SIGTERM: a render unwinds, removing its
    temporary files). The pool's own pipes cannot tell: every worker holds both of their ends."""
    try:
        fd = os.pidfd_open(pid)
        select.select([fd], [], [])
    except (AttributeError, OSError):  # no pidfd (macOS, an old kernel), or the batch is already gone
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.25)
    os.kill(os.getpid(), signal.SIGTERM)


def _worker_init(batch_pid: int | None = None, lock: SharedFd | None = None) -> None:
    """Pool workers ignore Ctrl-C (the terminal sends it to the whole group); the parent stops them
    with SIGTERM instead, so that each can clean up and none prints a traceback. Each shares the
    batch's lock, and stops by itself when the batch's process is gone (even killed by SIGKILL), so
    no worker renders on unattended, or holds the lock for long."""
    global _held
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    _held = lock
    if batch_pid is not None:
        threading.Thread(target=_watch_batch, args=(batch_pid,), name="attune-watch-batch", daemon=True).start()


def _run_job_in_worker(job: Job) -> JobResult:
    global _worker_busy
    _worker_busy = True
    try:
        return run_job(job)
    except KeyboardInterrupt:
        # Stopped by the parent: the render has unwound (temporary files removed, ffmpeg and the
        # speech worker stopped); leave now rather than wait idle for work that will not come.
        os._exit(130)
    finally:
        _worker_busy = False


def _stop_workers(pool: concurrent.futures.ProcessPoolExecutor, timeout_s: float = 5.0) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + timeout_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()


#: What the forkserver imports once, before it forks any worker: the renderer, warmed up.
WORKER_PRELOAD = ["attune.delivery.preload"]


def pool_context() -> multiprocessing.context.BaseContext:
    """Forkserver where there is one (Linux, macOS): workers start as forks of a process that has
    already imported the renderer, instead of each spending a second or more importing it.
    The forkserver itself is started from a clean interpreter, so no worker inherits the caller's
    threads or state. Elsewhere (Windows), spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)  # takes effect when the server first starts
        return context
    return multiprocessing.get_context("spawn")


class WorkerPool:
    """`workers` processes from `pool_context()`, each rendering one job at a time."""

    def __init__(self, workers: int, lock_fd: int | None = None):
        if multiprocessing.current_process().daemon:
            # A Dask worker (or any daemonic process) may not have children of its own: it renders itself.
            raise AttuneError("the local process pool cannot start inside a daemonic process such as a Dask worker", "render with --jobs 1 there, or use --cluster")
        self.workers = workers
        initargs = (os.getpid(), SharedFd(lock_fd) if lock_fd is not None else None)
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_worker_init, initargs=initargs)
        self.futures: dict[concurrent.futures.Future, Any] = {}

    def submit(self, job: Job, tag: Any) -> None:
        try:
            self.futures[self.pool.submit(_run_job_in_worker, job)] = tag
        except (OSError, EOFError, concurrent.futures.process.BrokenProcessPool) as exc:
            raise AttuneError(
                f"could not start {self.workers} worker processes ({type(exc).__name__}: {exc})", "render with --jobs 1, and run `attune doctor`"
            ) from exc

    def completed(self) -> Iterator[tuple[Any, JobResult]]:
        """(tag, result) of every submitted job, as each finishes."""
        for future in concurrent.futures.as_completed(list(self.futures)):
            try:
                result = future.result()
            except Exception as exc:  # a worker died, or the job could not be sent to it
                result = JobResult(error=f"internal error: {type(exc).__name__}: {exc}")
            yield self.futures.pop(future), result

    def stop(self) -> None:
        """Cancel what is queued and stop the workers (each running render unwinds)."""
        for future in self.futures:
            future.cancel()
        _stop_workers(self.pool)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class LocalExecutor:
    """The batch on this machine: in this process (`--jobs 1`, or one track to render), in roster
    order, or in worker processes, longest first. Clients are published here, as they complete."""

    def __init__(self, jobs: int | None, store: Store, cache_dir: Path, render_fn: Callable[..., Any] | None = None, *, lock_fd: int | None = None):
        assert store.local_root is not None
        self.jobs, self.root, self.cache_dir, self.render_fn = jobs, store.local_root, cache_dir, render_fn
        self.lock_fd = lock_fd
        self.queue: collections.deque[TrackJob] = collections.deque()
        self.done: collections.deque[Outcome] = collections.deque()
        self.pool: WorkerPool | None = None

    @contextlib.contextmanager
    def session(self, plan: BatchPlan, needed: bool) -> Iterator[None]:
        self.plan = plan
        workers = min(self.jobs or os.cpu_count() or 1, len(plan.pending))
        if workers <= 1:
            yield
            return
        pool = WorkerPool(workers, self.lock_fd)
        self.pool = pool
        try:
            yield
        except BaseException:
            pool.stop()
            raise
        pool.close()

    def _job(self, job: TrackJob) -> Job:
        request = dataclasses.replace(job.request, output_path=self.root / job.key)
        return Job(job.key, request, job.spec.title, self.render_fn, job.fingerprint, self.cache_dir, self.root, job.meta)

    def render(self, jobs: Sequence[TrackJob]) -> None:
        if self.pool is None:
            self.queue.extend(jobs)
            return
        for job in longest_first(jobs):
            self.pool.submit(self._job(job), job)

    def publish(self, publication: Publication) -> None:
        self.publish_now(publication)
        self.done.append(Published(publication))

    def publish_now(self, publication: Publication) -> bool:
        plan = self.plan
        publish_client(plan.roster, publication.client, publication.access, self.root, publication.entries, plan.base_url)
        return True

    def outcomes(self) -> Iterator[Outcome]:
        yield from self._flush()
        if self.pool is None:
            while self.queue:
                job = self.queue.popleft()
                yield Starting(job)
                yield Rendered(job, run_job(self._job(job)))
                yield from self._flush()
            return
        for job, result in self.pool.completed():
            yield Rendered(job, result)
            yield from self._flush()

    def _flush(self) -> Iterator[Outcome]:
        while self.done:
            yield self.done.popleft()
