"""The batch on dask.distributed (`--cluster local:N | tcp://HOST:PORT`), into any destination.

The client (this process) reads the roster, the manifest and access.json at DEST, decides what is
unchanged, checks that every worker runs the same Attune and speech engine as itself, and submits
one task per track to render (`attune.delivery.tasks`), longest first. Each client is published by
a task of its own once all their tracks have finished. The manifest and access.json are written by
the client alone, as tasks return.

Worker loss: a task whose worker dies is run again elsewhere (renders are idempotent); a track that
kills every worker it touches fails after `allowed-failures` tries and the rest go on. Queued tasks
wait on the scheduler (`worker-saturation` 1.0), not on a worker that might die with them.
Ctrl-C cancels what is queued; renders already running may finish (their objects appear whole, or
not at all); the manifest says what finished, and a re-run renders only what is missing.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import AttuneError, Interrupted, OutputError, ScriptError, SettingsError
from ..request import default_cache_dir, request_fingerprint
from ..settings import TrackSettings
from .access import ACCESS_MODE, ACCESS_NAME, LINKS_NAME, Access, links_csv
from .batch import MANIFEST_SAVE_INTERVAL_S, BatchReport, Progress, TrackOutcome, _failed, _interrupted_message, _tidy, cover_ready, track_request
from .inputs import InputFile, bundle
from .jobs import JobMeta, JobResult
from .layout import PUBLIC_INDEX, ROBOTS, TRACKS, remove_empty_folders
from .manifest import MANIFEST_NAME, Manifest, TrackEntry
from .publish import publication_fingerprint
from .roster import Client, TrackSpec, load_roster
from .store import LocalStore, Store, StoreSpec, check_key, is_url, open_store
from .tasks import PublishTask, RenderTask, publish_task, render_task, worker_identity

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
        }
        with dask.config.set(config):
            cluster = distributed.LocalCluster(
                n_workers=int(value), threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL, scheduler_kwargs=NO_DASHBOARD
            )
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


def check_workers(client: Any, asks: list[Any], dest: StoreSpec, probe: str | None) -> dict[str, dict[str, Any]]:
    """Refuse a cluster whose workers would render differently from this machine (their fingerprints
    would lie), or that cannot see a local destination. Returns each worker's identity."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise SettingsError(f"no worker joined the scheduler within {CONNECT_TIMEOUT_S:g} s", "start workers with `dask worker tcp://HOST:8786`") from None
    mine = worker_identity(asks)
    theirs = client.run(worker_identity, asks, dest, probe)
    for address, info in sorted(theirs.items()):
        if info["attune"] != mine["attune"] or info["engines"] != mine["engines"]:
            differs = [f"attune {info['attune']} (here {mine['attune']})"] if info["attune"] != mine["attune"] else []
            if not differs:  # the same Attune, another engine (or engine library)
                differs = [f"{e}: {info['engines'].get(e)!r} (here {mine['engines'][e]!r})" for e in mine["engines"] if info["engines"].get(e) != mine["engines"][e]]
            raise SettingsError(
                f"the worker {address} on {info['host']} differs from this machine: {'; '.join(differs)}",
                "install the same Attune version and speech engine on every worker (fingerprints would not match otherwise)",
            )
        if info["sees_dest"] is False:
            raise OutputError(
                f"the worker {address} on {info['host']} cannot see the output folder {dest.url}",
                "use a folder every worker shares, or an object-storage destination (-o s3://bucket/prefix)",
            )
    return theirs


def _speech_asks(tasks: list[RenderTask]) -> list[tuple[str, str | None, str | None, str | None]]:
    """Every (engine, voice, language, speaker) the tracks to render ask for, as the client reads them."""
    from ..request import speech_ask

    return sorted({speech_ask(task.request) for task in tasks}, key=str)


def run_cluster_batch(
    roster_path: Path,
    dest: str | Path,
    cluster: str | Any,
    *,
    base_url: str | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    cache_url: str | None = None,
    storage_options: dict[str, Any] | None = None,
    overrides: TrackSettings | None = None,
    progress: Callable[[Progress], None] | None = None,
    render_fn: Callable[..., Any] | None = None,
    fingerprint_fn: Callable[[Any], str] | None = None,
    allowed_failures: int | None = None,
) -> BatchReport:
    """`run_batch` on a Dask cluster (a `--cluster` spec, or a `distributed.Client` of the caller's)."""
    spec = StoreSpec(str(dest), dict(storage_options or {}))
    if not spec.is_local and not base_url:
        raise SettingsError(f"-o {dest} is object storage, so the links need --base-url", "pass --base-url, the public URL of DEST/public/")
    # The cover is made (or fitted) here, on the machine that sends the tasks: each task carries its bytes.
    roster = cover_ready(load_roster(roster_path), default_cache_dir())
    fingerprint_fn = fingerprint_fn or request_fingerprint
    store = open_store(spec)
    if isinstance(store, LocalStore):
        spec = StoreSpec(str(store.local_root), spec.storage_options)
    run_id = secrets.token_hex(6)
    started = time.time() - 1.0

    access = Access.parse(store.read_text(ACCESS_NAME), Path(ACCESS_NAME))
    entries = {c.name: a for c, a in zip(roster.clients, access.ensure(c.name for c in roster.clients))}
    access.base_url = base_url
    store.write_text(ACCESS_NAME, access.dumps(), mode=ACCESS_MODE)  # the tokens exist before anything is published under them
    previous = Manifest.parse(store.read_text(MANIFEST_NAME), str(roster.path.resolve()))
    manifest = Manifest(str(roster.path.resolve()), dict(previous.tracks))

    keys: list[str] = []
    kept: list[str] = []
    client_keys: dict[str, list[str]] = {}
    results: dict[str, TrackOutcome] = {}
    pending: list[tuple[tuple[Client, TrackSpec], RenderTask]] = []
    for client in roster.clients:
        entry = entries[client.name]
        if not entry.active:
            kept += [key for key, track in previous.tracks.items() if track.client_id == entry.id]
            continue
        for track in client.tracks:
            settings = overrides.over(track.settings) if overrides is not None else track.settings
            key = check_key(f"{TRACKS}/{entry.id}/{track.file_stem}.{settings.format}")
            keys.append(key)
            client_keys.setdefault(client.name, []).append(key)
            if not track.script.is_file():
                what = "is not a file" if track.script.exists() else "does not exist"
                problem = ScriptError(
                    f"the script {track.script_text} {what}", "check the path: it is relative to the roster file", path=str(roster.path), line=track.line
                )
                results[key] = _failed(client, track, str(problem))
                manifest.tracks.pop(key, None)
                continue
            try:
                request = track_request(roster, track, Path(key), overrides)
                fingerprint = fingerprint_fn(request)
            except AttuneError as exc:
                results[key] = _failed(client, track, str(exc))
                manifest.tracks.pop(key, None)
                continue
            old = previous.tracks.get(key)
            if (
                not force
                and old is not None
                and old.fingerprint == fingerprint
                and old.title_override == track.title
                and all(store.intact(f) for f in old.files.values())
            ):
                results[key] = _outcome(client, track, old, store, skipped=True)
                continue
            meta = JobMeta(client.name, entry.id, track.file_stem, track.number, track.script_text, settings.length_s, settings.voice)
            task = RenderTask(key, request, bundle(request), fingerprint, track.title, meta, spec, run_id, render_fn,
                              str(cache_dir) if cache_dir is not None else None, cache_url, dict(storage_options or {}))  # fmt: skip
            pending.append(((client, track), task))

    total = len(keys)
    state: dict[str, Any] = {"workers": ()}

    def tell(client: str | None = None, track: str | None = None, event: str = "start") -> None:
        if progress is not None:
            progress(Progress(len(results), total, len(pending), client, track, event, workers=state["workers"]))

    published: list[str] = []
    failed_publish: dict[str, str] = {}
    last_saved = time.monotonic()

    def save_manifest() -> None:
        store.write_text(MANIFEST_NAME, manifest.dumps(keys + kept))

    def publication(client: Client) -> tuple[list[TrackEntry], bool] | None:
        """A client whose tracks have all finished: (the ready entries, whether the published folder is
        already exactly these); None while tracks are outstanding, or when none is ready."""
        keys_here = client_keys.get(client.name, [])
        if not all(key in results for key in keys_here):
            return None
        ready = [manifest.tracks[k] for k in keys_here if k in manifest.tracks and results[k].ok]
        if not ready:
            return None
        entry = entries[client.name]
        same = access.clients[client.name].published == publication_fingerprint(roster, client, entry, ready, base_url)
        if same and store.exists(f"public/{entry.token}/index.html"):
            if client.name not in published:
                published.append(client.name)
            return ready, True
        return ready, False

    active = [c for c in roster.clients if entries[c.name].active]
    # Nothing to render and nothing to publish (a re-run of a finished batch): no cluster needed.
    needs_cluster = bool(pending) or any((p := publication(c)) is not None and not p[1] for c in active)
    tell()
    try:
        with contextlib.ExitStack() as stack:
            if not needs_cluster:
                raise _NothingToDo
            dask_client = stack.enter_context(_client_for(cluster, allowed_failures))
            probe = stack.enter_context(_probe(store))
            check_workers(dask_client, _speech_asks([task for _, task in pending]), spec, probe)
            pending.sort(key=lambda item: -(item[1].meta.length_s or 0.0))
            futures: dict[Any, tuple[tuple[Client, TrackSpec], RenderTask]] = {}
            queue = list(enumerate(pending))
            names: dict[str, str] = {}

            def submit_more() -> None:
                """Keep one task in flight per worker thread; the rest wait here, in the client. The
                scheduler queues tasks itself (worker-saturation) only for groups larger than twice the
                threads; a task assigned to a worker that dies counts as a failure of its own."""
                capacity = max(1, sum(dask_client.nthreads().values()))
                while queue and len(futures) < capacity:
                    index, (tag, task) = queue.pop(0)
                    key = f"attune-render-{run_id}-{index}"
                    futures[dask_client.submit(render_task, task, key=key, pure=False, priority=len(pending) - index)] = (tag, task)
                    names[key] = f"{tag[0].name} / {tag[1].file_stem}"

            publishing: dict[Any, tuple[Client, str]] = {}

            def publish_if_ready(client: Client) -> None:
                ready = publication(client)
                if ready is None or ready[1]:
                    return  # tracks outstanding, none ready, or published as it is
                fingerprint = publication_fingerprint(roster, client, entries[client.name], ready[0], base_url)
                tell(client.name, None, "publishing")
                task = PublishTask(roster, bundle_cover(roster.cover), client, entries[client.name], tuple(ready[0]), base_url, spec, run_id)
                key = f"attune-{run_id}-publish-{entries[client.name].id}"
                publishing[dask_client.submit(publish_task, task, key=key, pure=False, priority=len(pending) + 1)] = (client, fingerprint)

            for client in roster.clients:
                if entries[client.name].active:
                    publish_if_ready(client)  # every track unchanged or failed before rendering
            try:
                submit_more()
                waiting = set(futures) | set(publishing)
                while waiting:
                    done, waiting = _wait(waiting)
                    for future in done:
                        if future in publishing:
                            client, fingerprint = publishing.pop(future)
                            try:
                                future.result()
                                access.set_published(client.name, fingerprint)
                                store.write_text(ACCESS_NAME, access.dumps(), mode=ACCESS_MODE)
                                published.append(client.name)
                            except Exception as exc:
                                failed_publish[client.name] = _task_error(exc, allowed_failures)
                            continue
                        (client, track), task = futures.pop(future)
                        try:
                            result = future.result()
                        except Exception as exc:  # KilledWorker: the track killed every worker that tried it
                            result = JobResult(error=_task_error(exc, allowed_failures))
                        if result.entry is not None:
                            manifest.tracks[task.key] = result.entry
                            results[task.key] = _outcome(client, track, result.entry, store, skipped=False)
                        else:
                            manifest.tracks.pop(task.key, None)
                            results[task.key] = _failed(client, track, result.error or "unknown error")
                        if time.monotonic() - last_saved >= MANIFEST_SAVE_INTERVAL_S:
                            save_manifest()
                            last_saved = time.monotonic()
                        tell(client.name, track.file_stem, "rendered" if result.entry is not None else "failed")
                        publish_if_ready(client)
                    submit_more()
                    waiting = set(futures) | set(publishing)
                    busy = _busy(dask_client, names)
                    if busy != state["workers"]:
                        state["workers"] = busy
                        tell(event="working")
            except KeyboardInterrupt:
                # Queued tasks are cancelled; running ones may finish (their objects appear whole or not at all).
                with contextlib.suppress(Exception):
                    queue.clear()
                    dask_client.cancel(list(futures) + list(publishing), force=True)
                raise
    except _NothingToDo:
        pass
    except KeyboardInterrupt:
        # The cluster is closed (local) or the queued tasks cancelled (remote) by now.
        with contextlib.suppress(Exception):
            save_manifest()
        _tidy_store(store, run_id, started)
        done_clients = [c.name for c in roster.clients if c.name in published]
        waiting_clients = [c.name for c in roster.clients if entries[c.name].active and c.name not in published]
        raise Interrupted(_interrupted_message(done_clients, waiting_clients)) from None
    except BaseException:
        with contextlib.suppress(Exception):
            save_manifest()
        _tidy_store(store, run_id, started)
        raise
    save_manifest()
    _write_public_root(store)
    store.write_text(LINKS_NAME, links_csv(access, Path(store.display()), base_url, published=lambda token: store.exists(f"public/{token}/index.html")))
    _tidy_store(store, run_id, started)
    nothing_ready = [c.name for c in roster.clients if entries[c.name].active and c.name not in published and c.name not in failed_publish]
    revoked = [c.name for c in roster.clients if not entries[c.name].active]
    report_dir: Path | str = store.local_root if store.local_root is not None else store.display()
    report = BatchReport([results[key] for key in keys], Path(store.display(MANIFEST_NAME)) if store.local_root else store.display(MANIFEST_NAME),
                         report_dir, base_url, len(roster.clients), [c.name for c in roster.clients if c.name in published], nothing_ready, revoked,
                         not_published=failed_publish)  # fmt: skip
    return report


class _NothingToDo(Exception):
    """Every track is unchanged and every client published as it is: the batch needs no cluster."""


@contextlib.contextmanager
def _client_for(cluster: str | Any, allowed_failures: int | None) -> Iterator[Any]:
    """A `--cluster` spec is connected (and closed) here; a caller's own Client is used as it is."""
    if isinstance(cluster, str):
        with connect(cluster, allowed_failures) as client:
            yield client
    else:
        yield cluster


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


def _write_public_root(store: Store) -> None:
    for name, text in (("public/robots.txt", ROBOTS), ("public/index.html", PUBLIC_INDEX)):
        if store.read_text(name) != text:
            store.write_text(name, text)


def _tidy_store(store: Store, run_id: str, started: float) -> None:
    with contextlib.suppress(Exception):
        if store.local_root is not None:
            _tidy(store.local_root, started)
            remove_empty_folders(store.local_root / TRACKS)
        else:
            store.remove_temporaries(run_id)


def _outcome(client: Client, spec: TrackSpec, entry: TrackEntry, store: Store, *, skipped: bool) -> TrackOutcome:
    captions = entry.captions
    where = (lambda key: store.local_root / key) if store.local_root is not None else store.display
    return TrackOutcome(
        client=client.name, track=spec.file_stem, ok=True, skipped=skipped, error=None,
        audio=where(entry.audio.path), vtt=where(captions.path) if captions else None, title=entry.title, duration_s=entry.audio.duration_s,
    )  # fmt: skip


__all__ = ["check_workers", "connect", "is_url", "parse_cluster", "run_cluster_batch"]
