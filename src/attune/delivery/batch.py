"""The batch: render every client's tracks from a roster, then publish each client behind a private link.

Tracks render into the kept part of the output folder (`DIR/tracks/<client id>/`); each client
whose tracks are all done is then published to `DIR/public/<token>/` (see `attune.delivery.layout`
and `attune.delivery.access`). One failing track never stops the others: its error is in the
report. A track whose request fingerprint matches the manifest, and whose files are intact, is not
rendered again. Tracks render in `jobs` worker processes, longest first (`attune.delivery.pool`);
the parent never imports the renderer unless it renders itself (`--jobs 1`).

Interrupted, a batch keeps what finished (a re-run skips it), publishes the clients whose tracks
all finished and says which, and leaves no temporary file and no empty folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AttuneError, Interrupted, ScriptError, SettingsError
from ..request import RenderRequest, default_cache_dir, request_fingerprint
from ..settings import TrackSettings
from ..system.atomic import write_text
from .access import LINKS_NAME, Access, ClientAccess, links_csv
from .feed import check_base_url
from .jobs import Job, JobMeta, JobResult, run_job, unchanged
from .layout import TRACKS, inside, is_temporary, output_root, remove_empty_folders
from .manifest import MANIFEST_NAME, Manifest, TrackEntry
from .pool import run_pool
from .publish import publication_fingerprint, publish_client, roster_with_cover, write_public_root
from .roster import Client, Roster, TrackSpec, load_roster

#: While tracks finish, the manifest is saved at most this often (and always at the end).
MANIFEST_SAVE_INTERVAL_S = 1.0


@dataclass(frozen=True)
class TrackOutcome:
    """What happened to one track: rendered (`ok`), left as it was (`ok` and `skipped`), or failed."""

    client: str
    track: str
    ok: bool
    skipped: bool
    error: str | None
    #: Paths in a local folder; URLs (str) in object storage.
    audio: Path | str | None
    vtt: Path | str | None = None
    title: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class Progress:
    """Where a batch is: `done` of `total` tracks; `client` / `track` just started or finished."""

    done: int
    total: int
    #: Tracks to render in this run (the others are unchanged, or failed before rendering).
    to_render: int = 0
    client: str | None = None
    track: str | None = None
    #: "start", "rendering", "rendered", "unchanged", "failed", "publishing", "working" (on a cluster)
    event: str = "start"
    #: On a cluster: which workers are rendering which track (`host:port client / track` each).
    workers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchReport:
    """Every track's outcome, in roster order; which clients were published; where things are."""

    outcomes: list[TrackOutcome]
    #: Paths for a local folder; URLs (str) for object storage.
    manifest_path: Path | str
    out_dir: Path | str
    base_url: str | None = None
    clients: int = 0
    published: list[str] = field(default_factory=list)
    #: Clients with no recording ready (nothing published for them), and revoked ones (not rendered).
    nothing_ready: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    #: Clients whose publication failed (on a cluster), with the error.
    not_published: dict[str, str] = field(default_factory=dict)

    @property
    def failures(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def rendered(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if o.ok and not o.skipped]

    @property
    def skipped(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if o.skipped]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _join(folder: Path | str, name: str) -> str:
    return str(folder / name) if isinstance(folder, Path) else f"{folder.rstrip('/')}/{name}"


def format_summary(report: BatchReport) -> str:
    """One line per failed track, the clients not published and why, then a count line."""
    lines = [f"failed: {o.client} / {o.track}: {o.error}" for o in report.failures]
    for name in report.nothing_ready:
        lines.append(f"not published: {name} — no recording is ready (see the failures above)")
    for name, error in report.not_published.items():
        lines.append(f"not published: {name} — {error}; a re-run tries again")
    for name in report.revoked:
        lines.append(f"revoked: {name} — not rendered or published (`attune access rotate {report.out_dir} '{name}'` to restore)")
    if report.published:
        lines.append(
            f"published {_plural(len(report.published), 'client')} under {_join(report.out_dir, 'public')}; links to send: {_join(report.out_dir, LINKS_NAME)}"
        )
    if report.base_url is None:
        lines.append("note: without --base-url the links are paths on this computer; pass --base-url to publish them")
    counts = f"{len(report.rendered)} rendered, {len(report.skipped)} unchanged, {len(report.failures)} failed"
    lines.append(f"{_plural(len(report.outcomes), 'track')} for {_plural(report.clients, 'client')}: {counts} → {report.out_dir}")
    return "\n".join(lines)


def track_request(roster: Roster, spec: TrackSpec, output_path: Path, overrides: TrackSettings | None = None) -> RenderRequest:
    """What one roster track asks the renderer for: flags over the track's settings (which are the
    track's over the roster's defaults); the script's own come under them in the renderer."""
    settings = overrides.over(spec.settings) if overrides is not None else spec.settings
    return RenderRequest(
        script_path=spec.script, output_path=output_path, settings=settings, captions=True, cover=roster.cover,
        artist=roster.practitioner, album=roster.title, track=(spec.number, spec.total), title=spec.title,
    )  # fmt: skip


@dataclass
class _Plan:
    """What a batch will do: every track's key (in roster order), the ones already decided, the jobs."""

    keys: list[str] = field(default_factory=list)
    #: Keys of revoked clients' tracks: not rendered, but kept in the manifest (rotating restores them).
    kept: list[str] = field(default_factory=list)
    client_keys: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, TrackOutcome] = field(default_factory=dict)
    pending: list[tuple[tuple[Client, TrackSpec], Job]] = field(default_factory=list)


def _plan(
    roster: Roster,
    root: Path,
    access: dict[str, ClientAccess],
    manifest: Manifest,
    previous: Manifest,
    *,
    overrides: TrackSettings | None,
    force: bool,
    cache_dir: Path,
    render_fn: Callable[..., Any] | None,
    fingerprint_fn: Callable[[Any], str],
) -> _Plan:
    plan = _Plan()
    for client in roster.clients:
        entry = access[client.name]
        folder = root / TRACKS / entry.id  # created when its first track is written
        if not entry.active:
            plan.kept += [key for key, track in previous.tracks.items() if track.client_id == entry.id]
            continue
        keys = plan.client_keys.setdefault(client.name, [])
        for spec in client.tracks:
            settings = overrides.over(spec.settings) if overrides is not None else spec.settings
            audio = inside(root, folder / f"{spec.file_stem}.{settings.format}")
            key = audio.relative_to(root).as_posix()
            plan.keys.append(key)
            keys.append(key)
            meta = JobMeta(client.name, entry.id, spec.file_stem, spec.number, spec.script_text, settings.length_s, settings.voice)
            problem: AttuneError | None = None
            if not spec.script.is_file():
                what = "is not a file" if spec.script.exists() else "does not exist"
                problem = ScriptError(f"the script {spec.script_text} {what}", "check the path: it is relative to the roster file",
                                      path=str(roster.path), line=spec.line)  # fmt: skip
            else:
                try:
                    job = Job(key, track_request(roster, spec, audio, overrides), spec.title, render_fn, fingerprint_fn, cache_dir, root, meta)
                except AttuneError as exc:  # a setting the renderer refuses outright
                    problem = exc
            if problem is not None:
                plan.results[key] = _failed(client, spec, str(problem))
                manifest.tracks.pop(key, None)
            elif not force and unchanged(previous.tracks.get(key), job):
                plan.results[key] = _succeeded(client, spec, previous.tracks[key], root, skipped=True)
            else:
                plan.pending.append(((client, spec), job))
    return plan


def cover_ready(roster: Roster, cache_dir: Path) -> Roster:
    """`roster_with_cover`, its errors naming the roster's `cover:` line."""
    try:
        return roster_with_cover(roster, cache_dir)
    except AttuneError as exc:
        raise ScriptError(exc.message, exc.hint, path=str(roster.path), line=roster.cover_line or 1) from None


def run_batch(
    roster_path: Path,
    out_dir: Path | str,
    *,
    jobs: int | None = None,
    base_url: str | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    overrides: TrackSettings | None = None,
    progress: Callable[[Progress], None] | None = None,
    render_fn: Callable[..., Any] | None = None,
    fingerprint_fn: Callable[[Any], str] | None = None,
    cluster: Any = None,
    storage_options: dict[str, Any] | None = None,
    cache_url: str | None = None,
    allowed_failures: int | None = None,
) -> BatchReport:
    """Render a roster into `out_dir` and publish each client; see the module docstring.

    `overrides` are settings given on the command line: they win over every track's. `render_fn`
    and `fingerprint_fn` default to `attune.render.render` (imported only where a track renders) and
    `attune.request.request_fingerprint`; with `jobs` above 1 they must be module-level functions
    (they are sent to worker processes). Raises AttuneError only for problems with the whole
    batch (the roster, the output folder, the settings); track problems are in the report.

    With `cluster` (`"local:N"`, `"tcp://HOST:PORT"`, or a `distributed.Client`) the tracks render on
    Dask workers (`attune.delivery.cluster`), and `out_dir` may be any fsspec URL (`s3://…`), opened
    with `storage_options`; `cache_url` adds a shared speech store.
    """
    from .store import is_url

    if cluster is not None:
        if jobs is not None:
            raise SettingsError("--jobs is for one machine's process pool, not for --cluster", "leave out --jobs: each Dask worker renders one track at a time")
        from .cluster import run_cluster_batch

        return run_cluster_batch(
            roster_path, out_dir, cluster, base_url=check_base_url(base_url) if base_url is not None else None, force=force, cache_dir=cache_dir,
            cache_url=cache_url, storage_options=storage_options, overrides=overrides, progress=progress, render_fn=render_fn,
            fingerprint_fn=fingerprint_fn, allowed_failures=allowed_failures,
        )  # fmt: skip
    if is_url(out_dir):
        raise SettingsError(f"-o {out_dir} is object storage, which needs --cluster", "add --cluster local:2 to render on this machine's cores")
    if cache_url is not None:
        raise SettingsError("--cache-url is for --cluster", "give a shared folder with --cache-dir instead")
    if jobs is not None and jobs < 1:
        raise SettingsError(f"--jobs {jobs} must be at least 1", "use --jobs 1 to render one track at a time")
    if base_url is not None:
        base_url = check_base_url(base_url)
    roster = load_roster(roster_path)
    fingerprint_fn = fingerprint_fn or request_fingerprint
    # Decided here, not in the workers: a forkserver's workers see the environment (and folder) of
    # the moment the server started, which in a long-lived process may not be the caller's now.
    cache_dir = Path(cache_dir).resolve() if cache_dir is not None else default_cache_dir()
    roster = cover_ready(roster, cache_dir)

    started = time.time() - 1.0  # mtime granularity
    root = output_root(Path(out_dir))  # created and proved writable before any rendering
    access = Access.load(root)
    entries = {c.name: entry for c, entry in zip(roster.clients, access.ensure(c.name for c in roster.clients))}
    access.base_url = base_url
    access.save()  # the tokens exist before anything is published under them
    manifest_path = root / MANIFEST_NAME
    previous = Manifest.load(manifest_path, str(roster.path.resolve()))
    manifest = Manifest(str(roster.path.resolve()), dict(previous.tracks))  # updated as tracks finish, pruned to the roster when saved
    plan = _plan(roster, root, entries, manifest, previous, overrides=overrides, force=force, cache_dir=cache_dir,
                 render_fn=render_fn, fingerprint_fn=fingerprint_fn)  # fmt: skip

    total = len(plan.keys)
    done = len(plan.results)
    last_saved = time.monotonic()

    def tell(client: str | None = None, track: str | None = None, event: str = "start") -> None:
        if progress is not None:
            progress(Progress(done, total, len(plan.pending), client, track, event))

    def record(tag: tuple[Client, TrackSpec], job: Job, result: JobResult) -> None:
        nonlocal last_saved, done
        client, spec = tag
        if result.entry is not None:
            manifest.tracks[job.key] = result.entry
            plan.results[job.key] = _succeeded(client, spec, result.entry, root, skipped=False)
        else:
            manifest.tracks.pop(job.key, None)
            plan.results[job.key] = _failed(client, spec, result.error or "unknown error")
        if time.monotonic() - last_saved >= MANIFEST_SAVE_INTERVAL_S:
            manifest.save(manifest_path, plan.keys + plan.kept)
            last_saved = time.monotonic()
        done += 1
        tell(client.name, spec.file_stem, "rendered" if result.entry is not None else "failed")

    tell()
    workers = min(jobs or os.cpu_count() or 1, len(plan.pending))
    try:
        if workers <= 1:
            for tag, job in plan.pending:
                tell(tag[0].name, tag[1].file_stem, "rendering")
                record(tag, job, run_job(job))
        else:
            # Longest first, so that the last track to finish is a short one (less time with one core idle).
            plan.pending.sort(key=lambda item: -(item[1].meta.length_s or 0.0))
            run_pool(plan.pending, workers, record)
    except KeyboardInterrupt:
        # What finished is recorded, so that a re-run skips it; the clients whose tracks all
        # finished are published; nothing half-made is left.
        finished = _finish(roster, root, access, entries, manifest, manifest_path, plan, base_url, started, tell)
        waiting = [c.name for c in roster.clients if entries[c.name].active and c.name not in finished[0] and c.name not in finished[1]]
        raise Interrupted(_interrupted_message(finished[0], waiting)) from None
    except BaseException:
        with contextlib.suppress(Exception):
            manifest.save(manifest_path, plan.keys + plan.kept)
        _tidy(root, started)
        raise
    published, nothing_ready = _finish(roster, root, access, entries, manifest, manifest_path, plan, base_url, started, tell)
    revoked = [c.name for c in roster.clients if not entries[c.name].active]
    return BatchReport([plan.results[key] for key in plan.keys], manifest_path, root, base_url, len(roster.clients), published, nothing_ready, revoked)


def _finish(
    roster: Roster,
    root: Path,
    access: Access,
    entries: dict[str, ClientAccess],
    manifest: Manifest,
    manifest_path: Path,
    plan: _Plan,
    base_url: str | None,
    started: float,
    tell: Callable[..., None],
) -> tuple[list[str], list[str]]:
    """Save the manifest, publish every client whose tracks have all finished, write the links.
    Returns (published, nothing ready) client names."""
    manifest.save(manifest_path, plan.keys + plan.kept)
    _tidy(root, started)
    write_public_root(root)
    published, nothing_ready = [], []
    for client in roster.clients:
        entry = entries[client.name]
        keys = plan.client_keys.get(client.name, [])
        if not entry.active or not all(key in plan.results for key in keys):
            continue  # revoked, or interrupted before all its tracks finished
        ready = [manifest.tracks[key] for key in keys if key in manifest.tracks and manifest.tracks[key].intact(root, check_sha256=False)]
        if not ready:
            nothing_ready.append(client.name)
            continue
        fingerprint = publication_fingerprint(roster, client, entry, ready, base_url)
        if access.clients[client.name].published != fingerprint or not (root / "public" / entry.token).is_dir():
            tell(client.name, None, "publishing")
            publish_client(roster, client, entry, root, ready, base_url)
            access.set_published(client.name, fingerprint)
            access.save()
        published.append(client.name)
    write_text(root / LINKS_NAME, links_csv(access, root, base_url))
    return published, nothing_ready


def _interrupted_message(published: list[str], waiting: list[str]) -> str:
    done = f"published {_plural(len(published), 'client')} whose tracks all finished ({', '.join(published)})" if published else "published no client"
    rest = f"; not published: {', '.join(waiting)} — a re-run completes them" if waiting else ""
    return f"interrupted — {done}{rest}; no partial file was left"


def _tidy(root: Path, since: float) -> None:
    """Remove what an interrupted or failed run may leave: temporary files and folders from this run
    (`.NAME.*.part`, publications in progress) and empty track folders."""
    for path in list(root.rglob(".*")):
        with contextlib.suppress(OSError):
            if is_temporary(path) and path.lstat().st_mtime >= since:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()
    remove_empty_folders(root / TRACKS)


def _failed(client: Client, spec: TrackSpec, error: str) -> TrackOutcome:
    return TrackOutcome(client=client.name, track=spec.file_stem, ok=False, skipped=False, error=error, audio=None, title=spec.title)


def _succeeded(client: Client, spec: TrackSpec, entry: TrackEntry, root: Path, *, skipped: bool) -> TrackOutcome:
    captions = entry.captions
    return TrackOutcome(
        client=client.name, track=spec.file_stem, ok=True, skipped=skipped, error=None,
        audio=root / entry.audio.path, vtt=root / captions.path if captions else None, title=entry.title, duration_s=entry.audio.duration_s,
    )  # fmt: skip
