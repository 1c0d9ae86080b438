"""Rendering a batch's jobs in worker processes, and stopping them cleanly.

Workers are forked from a forkserver that has already imported the renderer (numpy, scipy…), so
each starts in milliseconds and none inherits the parent's state; where there is no forkserver
(Windows), they are spawned. Ctrl-C reaches the parent; it stops the workers with SIGTERM, so each
render unwinds and removes its temporary files.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.context
import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..errors import AttuneError
from .track_job import Job, JobResult, run_job

T = TypeVar("T")

_worker_busy = False


def _worker_stop(signum, frame) -> None:
    """SIGTERM in a pool worker: a render in progress unwinds (removing its temporary files);
    an idle worker leaves at once and quietly."""
    if _worker_busy:
        raise KeyboardInterrupt
    os._exit(130)


def _worker_init() -> None:
    """Pool workers ignore Ctrl-C (the terminal sends it to the whole group); the parent stops them
    with SIGTERM instead, so that each can clean up and none prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)


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


def run_pool(pending: Sequence[tuple[T, Job]], workers: int, record: Callable[[T, Job, JobResult], None]) -> None:
    """Run every job in `workers` processes; `record(tag, job, result)` as each finishes."""
    if multiprocessing.current_process().daemon:
        # A Dask worker (or any daemonic process) may not have children of its own: it renders itself.
        raise AttuneError("the local process pool cannot start inside a daemonic process such as a Dask worker", "render with --jobs 1 there, or use --cluster")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(), initializer=_worker_init)
    futures: dict[concurrent.futures.Future, tuple[T, Job]] = {}
    try:
        for tag, job in pending:
            try:
                futures[pool.submit(_run_job_in_worker, job)] = (tag, job)
            except (OSError, EOFError, concurrent.futures.process.BrokenProcessPool) as exc:
                raise AttuneError(
                    f"could not start {workers} worker processes ({type(exc).__name__}: {exc})", "render with --jobs 1, and run `attune doctor`"
                ) from exc
        for future in concurrent.futures.as_completed(futures):
            tag, job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a worker died, or the job could not be sent to it
                result = JobResult(error=f"internal error: {type(exc).__name__}: {exc}")
            record(tag, job, result)
    except BaseException:
        for future in futures:
            future.cancel()
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
