"""The batch on dask.distributed (`--cluster local:N | tcp://HOST:PORT`): the `DaskExecutor`.

The runner (`attune.delivery.runner`, in this process) reads the roster, the manifest and
access.json at DEST and decides what is unchanged; this executor checks that every worker runs the
same Attune and speech engine as this machine, and submits one task per track to render
(`attune.delivery.dask_tasks`), longest first. Each client is published by a task of its own once
all their tracks have finished. The manifest and access.json are written by the runner alone, as
tasks return.

Worker loss: a task whose worker dies is run again elsewhere (renders are idempotent); a track that
kills every worker it touches fails after `allowed-failures` tries and the rest go on. Queued tasks
wait on the scheduler (`worker-saturation` 1.0), not on a worker that might die with them.
Ctrl-C cancels what is queued; renders already running may finish (their objects appear whole, or
not at all); the manifest says what finished, and a re-run renders only what is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import OutputError, SettingsError
from .dask_tasks import PublishTask, RenderTask, publish_task, render_task, worker_identity
from .executor import BatchPlan, Outcome, Publication, Published, Rendered, TrackJob, Working, longest_first
from .inputs import InputFile, bundle
from .store import Store, StoreSpec
from .track_job import JobResult

#: How long to wait for a scheduler to answer, and for its first worker to join.
CONNECT_TIMEOUT_S = 30.0
#: How often the client looks at which workers are busy (for the progress display).
POLL_INTERVAL_S = 0.5
#: Tries of a task whose worker died before it is recorded as failed (Dask's default is 3).
DEFAULT_ALLOWED_FAILURES = 2
#: No dashboard; the scheduler's small HTTP server (health checks) on a free port of 127.0.0.1, not on
#: 8787, which another cluster on this machine may hold.
NO_DASHBOARD = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}
#: Tasks a worker may hold per thread: 1.0 keeps every queued task on the scheduler.
WORKER_SATURATION = 1.0


def parse_cluster(spec: str) -> tuple[str, int | str]:
    """`local:N` → ("local", N); `tcp://HOST:PORT` (or tls://…) → ("remote", the address)."""
    text = spec.strip()
    if text.startswith("local:") and text[6:].isdigit() and 1 <= int(text[6:]) <= 256:
        return "local", int(text[6:])
    if text.startswith(("tcp://", "tls://")) and ":" in text.split("://", 1)[1]:
        return "remote", text
    raise SettingsError(f"--cluster {spec!r} is not a cluster", "use --cluster local:2 (workers on this machine) or --cluster tcp://HOST:8786 (a scheduler)")


@contextlib.contextmanager
def connect(spec: str, allowed_failures: int | None = None) -> Iterator[Any]:
    """A `distributed.Client` for `spec`: a LocalCluster of N single-threaded worker processes (no
    dashboard) configured here, or an existing scheduler (configured where it was started)."""
    kind, value = parse_cluster(spec)
    if kind == "remote" and allowed_failures is not None:
        raise SettingsError(
            "--allowed-failures is a setting of the scheduler, not of this client",
            "start the scheduler with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2 in its environment",
        )
    allowed_failures = DEFAULT_ALLOWED_FAILURES if allowed_failures is None else allowed_failures
    if kind == "local":
        method = _start_forkserver()  # first: it imports the renderer while this process imports dask
    try:
        import dask
        import distributed
    except ImportError:
        raise SettingsError("--cluster needs dask.distributed", "pip install 'attune[dask]'") from None
    if kind == "local":
        config = {
            "distributed.scheduler.allowed-failures": allowed_failures,
            "distributed.scheduler.worker-saturation": WORKER_SATURATION,
            # The statistical profiler samples every thread's stack every 10 ms: CPU taken from renders.
            "distributed.worker.profile.enabled": False,
            "distributed.worker.multiprocessing-method": method,
        }
        with contextlib.suppress(Exception):  # the forkserver's preload is ours (set above), not Dask's own list
            distributed.utils._forkserver_preload_set = True
        # Held while the cluster lives: a worker that dies is restarted by its nanny, forked warm too.
        with dask.config.set(config):
            # env: a forkserver started earlier (by this process's pool) has the environment of then; the workers get today's.
            cluster = distributed.LocalCluster(
                n_workers=int(value), threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL,
                scheduler_kwargs=NO_DASHBOARD, env=dict(os.environ),
            )  # fmt: skip
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                with contextlib.suppress(Exception):
                    client.close()
                with contextlib.suppress(Exception):
                    cluster.close()
        return
    try:
        client = distributed.Client(str(value), timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise SettingsError(f"cannot reach the Dask scheduler at {value} ({exc})", "start one with `dask scheduler`, or check the address") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()


#: What a `local:N` cluster's forkserver imports before it forks any worker: the renderer, warmed up,
#: and Dask's worker. Each worker starts as a fork of it, warm, instead of importing both itself.
CLUSTER_PRELOAD = ["attune.delivery.preload", "distributed"]


def _start_forkserver() -> str:
    """Start the forkserver `local:N` workers are forked from (preloaded: `CLUSTER_PRELOAD`), without
    waiting for it; returns Dask's multiprocessing method ("spawn" where there is no forkserver).
    Already running (this process's pool started it), it is used as it is: its workers import what
    it lacks on their first track."""
    import multiprocessing
    import multiprocessing.forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    multiprocessing.get_context("forkserver").set_forkserver_preload(CLUSTER_PRELOAD)
    multiprocessing.forkserver.ensure_running()
    return "forkserver"


def check_workers(client: Any, asks: list[Any], dest: StoreSpec, probe: str | None) -> tuple[str, dict[str, dict[str, Any]]]:
    """Register the batch's `WorkerCheck` with the scheduler (it warms and checks every worker there,
    and every worker that joins later, before it takes a task), and refuse a cluster whose workers
    would render differently from this machine (their fingerprints would lie), or that cannot see a
    local destination. Returns the resource every task asks for, and each checked worker's identity."""
    from .worker_check import WorkerCheck, verdict_of

    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise SettingsError(f"no worker joined the scheduler within {CONNECT_TIMEOUT_S:g} s", "start workers with `dask worker tcp://HOST:8786`") from None
    plugin = WorkerCheck(worker_identity(asks), asks, dest, probe)
    client.register_plugin(plugin, name=plugin.name)
    theirs = {address: v for address, v in client.run(verdict_of, plugin.name).items() if v is not None}
    for address, info in sorted(theirs.items()):
        if info["problem"] is None:
            continue
        message, hint = info["problem"]
        if message.startswith("cannot see"):
            raise OutputError(f"the worker {address} on {info['host']} cannot see the output folder {dest.url}", hint)
        raise SettingsError(f"the worker {address} on {info['host']} {message}", hint)
    return plugin.resource, theirs


def _speech_asks(tasks: Sequence[TrackJob]) -> list[tuple[str, str | None, str | None, str | None]]:
    """Every (engine, voice, language, speaker) the tracks to render ask for, as the client reads them."""
    from ..request import speech_ask

    return sorted({speech_ask(task.request) for task in tasks}, key=str)


class DaskExecutor:
    """The batch on dask.distributed: one task per track, longest first, and one per client's publication.

    The client keeps one task in flight per worker thread and the rest in its own queue, so a worker
    that dies takes only its running track with it."""

    def __init__(
        self, cluster: str | Any, store: Store, spec: StoreSpec, *, allowed_failures: int | None = None, render_fn: Callable[..., Any] | None = None,
        cache_dir: Path | None = None, cache_url: str | None = None, storage_options: dict[str, Any] | None = None,
    ):  # fmt: skip
        self.cluster, self.store, self.spec, self.allowed_failures = cluster, store, spec, allowed_failures
        self.render_fn, self.cache_url, self.storage_options = render_fn, cache_url, dict(storage_options or {})
        self.cache_dir = str(cache_dir) if cache_dir is not None else None
        self.client: Any = None
        self.queue: list[tuple[int, TrackJob, RenderTask]] = []
        self.futures: dict[Any, TrackJob] = {}
        self.publishing: dict[Any, Publication] = {}
        self.names: dict[str, str] = {}
        self.busy: tuple[str, ...] = ()
        self.total = 0
        self.resource = ""

    @contextlib.contextmanager
    def session(self, plan: BatchPlan, needed: bool) -> Iterator[None]:
        """Connect and check every worker, unless there is nothing to do (then no cluster is started)."""
        self.plan = plan
        if not needed:
            yield
            return
        with contextlib.ExitStack() as stack:
            self.client = stack.enter_context(_client_for(self.cluster, self.allowed_failures))
            probe = stack.enter_context(_probe(self.store))
            self.resource, _ = check_workers(self.client, _speech_asks(plan.pending), self.spec, probe)
            stack.callback(_unregister, self.client, self.resource)
            try:
                yield
            except KeyboardInterrupt:
                # Queued tasks are cancelled; running ones may finish (their objects appear whole or not at all).
                with contextlib.suppress(Exception):
                    self.queue.clear()
                    self.client.cancel(list(self.futures) + list(self.publishing), force=True)
                raise

    def render(self, jobs: Sequence[TrackJob]) -> None:
        ordered = longest_first(jobs)
        self.total = len(ordered)
        run_id = self.plan.run_id
        for index, job in enumerate(ordered):
            task = RenderTask(job.key, job.request, bundle(job.request), job.fingerprint, job.spec.title, job.meta, self.spec, run_id,
                              self.render_fn, self.cache_dir, self.cache_url, self.storage_options, self.plan.access[job.client.name].token)  # fmt: skip
            self.queue.append((index, job, task))
        self._submit_more()

    def _submit_more(self) -> None:
        """Keep one task in flight per worker thread; the rest wait here, in the client. The scheduler
        queues tasks itself (worker-saturation) only for groups larger than twice the threads; a task
        assigned to a worker that dies counts as a failure of its own."""
        capacity = max(1, self._checked_threads())  # (also hands waiting tasks to workers checked since)
        if not self.queue:
            return
        while self.queue and len(self.futures) < capacity:
            index, job, task = self.queue.pop(0)
            key = f"attune-render-{self.plan.run_id}-{index}"
            future = self.client.submit(render_task, task, key=key, pure=False, priority=self.total - index, resources={self.resource: 1})
            self.futures[future] = job
            self.names[key] = f"{job.client.name} / {job.spec.file_stem}"

    def publish(self, publication: Publication) -> None:
        plan = self.plan
        task = PublishTask(plan.roster, bundle_cover(plan.roster.cover), publication.client, publication.access, publication.entries, plan.base_url,
                           self.spec, self.plan.run_id)  # fmt: skip
        key = f"attune-{self.plan.run_id}-publish-{publication.access.id}"
        self.publishing[self.client.submit(publish_task, task, key=key, pure=False, priority=self.total + 1, resources={self.resource: 1})] = publication

    def outcomes(self) -> Iterator[Outcome]:
        waiting = set(self.futures) | set(self.publishing)
        while waiting:
            done, waiting = _wait(waiting)
            for future in done:
                if future in self.publishing:
                    yield Published(self.publishing.pop(future), self._error(future))
                    continue
                job = self.futures.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # KilledWorker: the track killed every worker that tried it
                    result = JobResult(error=_task_error(exc, self.allowed_failures))
                yield Rendered(job, result)
            self._submit_more()
            waiting = set(self.futures) | set(self.publishing)
            busy = _busy(self.client, self.names) + self._refused()
            if busy != self.busy:
                self.busy = busy
                yield Working(busy)

    def _checked_threads(self) -> int:
        """Threads of the workers the check let in (the batch's resource), as the scheduler sees them now."""
        from .worker_check import checked_threads

        try:
            return int(self.client.run_on_scheduler(checked_threads, self.resource))
        except Exception:  # a scheduler without Attune installed cannot run it: count from its report
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
            except Exception:
                return len(self.futures)
            return int(sum(w.get("resources", {}).get(self.resource, 0) for w in workers))

    def _refused(self) -> tuple[str, ...]:
        """Workers that joined after the start and were refused by the check (they take nothing), and why."""
        from .worker_check import REFUSED_TOPIC

        try:
            events = self.client.get_events(REFUSED_TOPIC)
        except Exception:
            return ()
        refused = {e["worker"]: e for _, e in events if isinstance(e, dict) and e.get("resource") == self.resource}
        return tuple(f"{a.split('://')[-1]} not used: it {e['problem'][0]}" for a, e in sorted(refused.items()))

    def publish_now(self, publication: Publication) -> bool:
        return False  # the cluster is closed (local) or its queued tasks cancelled (remote) by now

    def _error(self, future: Any) -> str | None:
        try:
            future.result()
        except Exception as exc:
            return _task_error(exc, self.allowed_failures)
        return None


@contextlib.contextmanager
def _client_for(cluster: str | Any, allowed_failures: int | None) -> Iterator[Any]:
    """A `--cluster` spec is connected (and closed) here; a caller's own Client is used as it is."""
    if isinstance(cluster, str):
        with connect(cluster, allowed_failures) as client:
            yield client
    else:
        yield cluster


def _unregister(client: Any, name: str) -> None:
    """The batch's check leaves the scheduler with the batch (workers keep their resource, harmlessly)."""
    with contextlib.suppress(Exception):
        client.unregister_worker_plugin(name)


def _wait(futures: set[Any]) -> tuple[set[Any], set[Any]]:
    from distributed import wait

    try:
        done, not_done = wait(list(futures), timeout=POLL_INTERVAL_S, return_when="FIRST_COMPLETED")
    except TimeoutError:
        return set(), futures
    return set(done), set(not_done)


def _busy(client: Any, names: dict[str, str]) -> tuple[str, ...]:
    """Which workers are rendering which track, as `host:port client / track`."""
    try:
        processing = client.processing()
    except Exception:
        return ()
    out = []
    for worker, keys in sorted(processing.items()):
        for key in keys:
            if key in names:
                out.append(f"{worker.split('://')[-1]} {names[key]}")
    return tuple(out)


def _task_error(exc: BaseException, allowed_failures: int | None) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        allowed_failures = int(getattr(exc, "allowed_failures", allowed_failures or DEFAULT_ALLOWED_FAILURES))  # the scheduler's own setting
        return (f"the worker rendering it died {allowed_failures + 1} times (allowed-failures {allowed_failures}) — "
                "this track may crash Attune: render it alone with `attune render` to see why")  # fmt: skip
    if name == "CancelledError" or name == "FutureCancelledError":
        return "cancelled"
    return f"internal error: {name}: {exc}"


def bundle_cover(cover: Path | None) -> InputFile | None:
    if cover is None:
        return None
    from .inputs import _digest

    data = Path(cover).read_bytes()
    return InputFile(str(Path(cover).resolve()), _digest(data), data)


@contextlib.contextmanager
def _probe(store: Store) -> Iterator[str | None]:
    """A file in a local destination that each worker must see (a shared folder), while the workers
    are checked; None for object storage."""
    if store.local_root is None:
        yield None
        return
    with tempfile.NamedTemporaryFile(dir=store.local_root, prefix=".attune-probe-") as probe:
        yield Path(probe.name).name


__all__ = ["DaskExecutor", "check_workers", "connect", "parse_cluster"]
