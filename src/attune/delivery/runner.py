"""The one batch runner: plan once, submit, collect outcomes, publish each client when complete, finish once.

Where tracks render is an executor's business (`attune.delivery.executor`: this machine or a Dask
cluster); where files go is a store's (`attune.delivery.store`: a folder or object storage). The
runner alone reads and writes DEST's manifest, access.json and links.csv, so both executors keep
the same rules: a track whose fingerprint matches the manifest and whose files are intact is not
rendered again; one failing track never stops the others; a client is published only when all
their tracks have finished; interrupted, the batch keeps what finished, says who was not published,
and leaves no temporary file.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AttuneError, Interrupted, NoSpaceError, OutputError
from ..formats import estimated_bytes, get_format
from ..request import RenderRequest
from ..settings import TrackSettings
from ..system.space import is_no_space, no_space
from .access import ACCESS_MODE, ACCESS_NAME, LINKS_NAME, Access, ClientAccess, links_csv
from .executor import BatchPlan, Executor, Publication, Published, Rendered, Starting, TrackJob, Working
from .layout import TRACKS
from .manifest import MANIFEST_NAME, Manifest, TrackEntry
from .publish import publication_fingerprint, write_public_root
from .report import BatchReport, Progress, TrackOutcome, interrupted_message
from .roster import Client, Roster, TrackSpec, missing_script
from .store import Store
from .track_job import JobMeta, JobResult

#: While tracks finish, the manifest is saved at most this often (and always at the end).
MANIFEST_SAVE_INTERVAL_S = 1.0


def track_request(roster: Roster, spec: TrackSpec, output_path: Path, overrides: TrackSettings | None = None) -> RenderRequest:
    """What one roster track asks the renderer for: flags over the track's settings (which are the
    track's over the roster's defaults); the script's own come under them in the renderer."""
    settings = overrides.over(spec.settings) if overrides is not None else spec.settings
    return RenderRequest(
        script_path=spec.script, output_path=output_path, settings=settings, captions=True, cover=roster.cover,
        artist=roster.practitioner, album=roster.title, track=(spec.number, spec.total), title=spec.title,
    )  # fmt: skip


def outcome(client: Client, spec: TrackSpec, entry: TrackEntry, store: Store, *, skipped: bool) -> TrackOutcome:
    """A track that is done: its files as paths (a folder) or URLs (object storage)."""
    captions = entry.captions
    where = (lambda key: store.local_root / key) if store.local_root is not None else store.display
    return TrackOutcome(
        client=client.name, track=spec.file_stem, ok=True, skipped=skipped, error=None,
        audio=where(entry.audio.path), vtt=where(captions.path) if captions else None, title=entry.title, duration_s=entry.audio.duration_s,
    )  # fmt: skip


def failed(client: Client, spec: TrackSpec, error: str) -> TrackOutcome:
    return TrackOutcome(client=client.name, track=spec.file_stem, ok=False, skipped=False, error=error, audio=None, title=spec.title)


class _OutOfSpace(Exception):
    """A track could not be written for want of room: the batch stops."""

    def __init__(self, job: TrackJob):
        super().__init__(job.key)
        self.job = job


def _estimate(job: TrackJob, cover_bytes: int) -> int:
    """About what a track's files take, the cover in each (0 when its length is the script's own, not known here)."""
    settings = job.request.settings
    length_s = settings.length_s
    if not length_s:
        return 0
    with contextlib.suppress(AttuneError, ValueError):
        return sum(estimated_bytes(get_format(name), settings.bitrate, length_s) + cover_bytes for name in (settings.formats or (settings.format,))) + 64_000
    return 0


def _known(name: str) -> bool:
    try:
        get_format(name)
    except AttuneError:
        return False
    return True


def unchanged(entry: TrackEntry | None, job: TrackJob, store: Store) -> bool:
    """The manifest's entry was rendered from the same inputs, and its files are intact."""
    if entry is None or entry.fingerprint != job.fingerprint or entry.title_override != job.spec.title:
        return False
    return bool(entry.files) and all(store.intact(file) for file in entry.files.values())


class BatchRunner:
    """One batch over one store and one executor; `run()` once."""

    def __init__(
        self, roster: Roster, store: Store, executor: Executor, *, base_url: str | None, overrides: TrackSettings | None, force: bool,
        fingerprint_fn: Callable[[Any], str], progress: Callable[[Progress], None] | None = None,
    ):  # fmt: skip
        self.roster, self.store, self.executor = roster, store, executor
        self.base_url, self.overrides, self.force = base_url, overrides, force
        self.fingerprint_fn, self.progress = fingerprint_fn, progress
        self.run_id = secrets.token_hex(6)
        self.started = time.time() - 1.0  # mtime granularity
        self.published: list[str] = []
        self.not_published: dict[str, str] = {}
        self.workers: tuple[str, ...] = ()
        self.last_saved = time.monotonic()

    # -- reading DEST ------------------------------------------------------------------------

    def _read_access(self) -> Access:
        path = Path(self.store.display(ACCESS_NAME)) if self.store.local_root is not None else Path(ACCESS_NAME)
        try:
            text = self.store.read_text(ACCESS_NAME)
        except OSError as exc:
            hint = "restore it from a backup; without it every client would get new links"
            raise OutputError(f"cannot read {ACCESS_NAME}: {exc}", hint, path=str(path)) from None
        return Access.parse(text, path)

    def _read_manifest(self) -> Manifest:
        try:
            text = self.store.read_text(MANIFEST_NAME)
        except (OSError, ValueError):  # unreadable: every track renders again
            text = None
        return Manifest.parse(text, str(self.roster.path.resolve()))

    # -- planning ------------------------------------------------------------------------------

    def make_plan(self) -> BatchPlan:
        """Give every client a token (saved before anything is published under it), then decide each track."""
        self.access = self._read_access()
        entries = dict(zip((c.name for c in self.roster.clients), self.access.ensure(c.name for c in self.roster.clients)))
        self.access.base_url = self.base_url
        self._save_access()
        self.previous = self._read_manifest()
        # Updated as tracks finish, pruned to the roster when saved.
        self.manifest = Manifest(str(self.roster.path.resolve()), dict(self.previous.tracks))
        plan = BatchPlan(self.roster, self.base_url, entries, self.run_id)
        for client in self.roster.clients:
            entry = entries[client.name]
            if not entry.active:
                plan.kept += [key for key, track in self.previous.tracks.items() if track.client_id == entry.id]
                continue
            for spec in client.tracks:
                self._plan_track(plan, client, entry, spec)
        return plan

    def _plan_track(self, plan: BatchPlan, client: Client, entry: ClientAccess, spec: TrackSpec) -> None:
        settings = self.overrides.over(spec.settings) if self.overrides is not None else spec.settings
        key = self.store.key(f"{TRACKS}/{entry.id}/{spec.file_stem}.{settings.format}")
        plan.keys.append(key)
        plan.client_keys.setdefault(client.name, []).append(key)
        problem = self._job_or_problem(client, entry, spec, key, settings)
        if isinstance(problem, str):
            plan.results[key] = failed(client, spec, problem)
            self.manifest.tracks.pop(key, None)
        elif not self.force and unchanged(self.previous.tracks.get(key), problem, self.store):
            plan.results[key] = outcome(client, spec, self.previous.tracks[key], self.store, skipped=True)
        else:
            plan.pending.append(problem)

    def _job_or_problem(self, client: Client, entry: ClientAccess, spec: TrackSpec, key: str, settings: TrackSettings) -> TrackJob | str:
        """The track's job, or why it cannot render (its script is missing, a setting is refused)."""
        missing = missing_script(self.roster, spec)
        if missing is not None:
            return str(missing)
        try:
            request = track_request(self.roster, spec, Path(key), self.overrides)
            fingerprint = self.fingerprint_fn(request)
        except AttuneError as exc:  # a setting the renderer refuses outright
            return str(exc)
        except Exception as exc:  # one track's bug must not stop the batch; it is reported as such
            return f"internal error: {type(exc).__name__}: {exc}"
        meta = JobMeta(client.name, entry.id, spec.file_stem, spec.number, spec.script_text, settings.length_s, settings.voice)
        return TrackJob(key, client, spec, request, fingerprint, meta)

    # -- running -------------------------------------------------------------------------------

    def run(self) -> BatchReport:
        plan = self.plan = self.make_plan()
        # Nothing to render and nothing to publish (a re-run of a finished batch): no executor needed.
        needed = bool(plan.pending) or any(self._publication(plan, c) is not None for c in plan.active)
        self.tell()
        try:
            with self.executor.session(plan, needed):
                for client in plan.active:
                    self._publish_if_ready(plan, client)  # every track unchanged, or failed before rendering
                self.executor.render(plan.pending)
                for event in self.executor.outcomes():
                    self._handle(plan, event)
        except KeyboardInterrupt:
            self._publish_the_rest(plan)
            published, _, waiting = self._finish(plan)
            raise Interrupted(interrupted_message(published, waiting)) from None
        except BaseException as exc:
            if isinstance(exc, _OutOfSpace) or is_no_space(exc):
                raise self._stopped_for_space(plan, exc.job if isinstance(exc, _OutOfSpace) else None) from None
            with contextlib.suppress(Exception):
                self._save_manifest(plan)
            with contextlib.suppress(Exception):
                self.store.tidy(self.run_id, self.started)
            raise
        published, nothing_ready, _ = self._finish(plan)
        return self._report(plan, published, nothing_ready)

    def _handle(self, plan: BatchPlan, event: Any) -> None:
        if isinstance(event, Starting):
            self.tell(event.job.client.name, event.job.spec.file_stem, "rendering")
        elif isinstance(event, Rendered):
            self._record(plan, event.job, event.result)
        elif isinstance(event, Published):
            self._published(event.publication, event.error)
        elif isinstance(event, Working):
            self.workers = event.workers
            self.tell(event="working")

    def _record(self, plan: BatchPlan, job: TrackJob, result: JobResult) -> None:
        client, spec = job.client, job.spec
        if result.entry is not None:
            self.manifest.tracks[job.key] = result.entry
            plan.results[job.key] = outcome(client, spec, result.entry, self.store, skipped=False)
        else:
            self.manifest.tracks.pop(job.key, None)
            plan.results[job.key] = failed(client, spec, result.error or "unknown error")
        if result.no_space:  # the next tracks would fail the same way: stop, keep what is finished
            raise _OutOfSpace(job)
        if time.monotonic() - self.last_saved >= MANIFEST_SAVE_INTERVAL_S:
            self._save_manifest(plan)
            self.last_saved = time.monotonic()
        self.tell(client.name, spec.file_stem, "rendered" if result.entry is not None else "failed")
        self._publish_if_ready(plan, client)

    # -- publishing ----------------------------------------------------------------------------

    def _publication(self, plan: BatchPlan, client: Client) -> Publication | None:
        """A complete client whose published folder is not already exactly their ready tracks; None
        while tracks are outstanding, when none is ready, or when the folder is as it should be."""
        if not plan.complete(client):
            return None
        keys = plan.client_keys.get(client.name, [])
        ready = tuple(self.manifest.tracks[k] for k in keys if k in self.manifest.tracks and plan.results[k].ok)
        if not ready:
            return None
        entry = plan.access[client.name]
        fingerprint = publication_fingerprint(self.roster, client, entry, ready, self.base_url)
        if self.access.clients[client.name].published == fingerprint and self.store.exists(f"public/{entry.token}/index.html"):
            if client.name not in self.published:
                self.published.append(client.name)
            return None
        return Publication(client, entry, ready, fingerprint)

    def _publish_if_ready(self, plan: BatchPlan, client: Client) -> None:
        publication = self._publication(plan, client)
        if publication is not None:
            self.tell(client.name, None, "publishing")
            self.executor.publish(publication)

    def _publish_the_rest(self, plan: BatchPlan) -> None:
        """Interrupted: publish the clients whose tracks all finished, where the executor still can."""
        for client in plan.active:
            publication = self._publication(plan, client) if client.name not in self.not_published else None
            if publication is not None and self.executor.publish_now(publication):
                self.tell(client.name, None, "publishing")
                self._published(publication, None)

    def _published(self, publication: Publication, error: str | None) -> None:
        name = publication.client.name
        if error is not None:
            self.not_published[name] = error
            return
        self.access.set_published(name, publication.fingerprint)
        self._save_access()
        self.published.append(name)

    # -- finishing -----------------------------------------------------------------------------

    def _stopped_for_space(self, plan: BatchPlan, job: TrackJob | None) -> NoSpaceError:
        """The disk is full (a track, a publication or the manifest could not be written): the
        workers have stopped. Publish the clients whose tracks all finished and save the manifest,
        where there is still room (each write is atomic: what does not fit leaves the one before),
        remove every temporary file, and say what is kept and about what the rest needs."""
        with contextlib.suppress(Exception):
            self._publish_the_rest(plan)
        try:
            self._finish(plan)
        except Exception:  # no room even for the manifest: the one before stays, and a re-run renders what it does not list
            with contextlib.suppress(Exception):
                self.store.tidy(self.run_id, self.started)
        published = [c.name for c in self.roster.clients if c.name in self.published]
        waiting = [c.name for c in plan.active if c.name not in self.published]
        left = [j for j in plan.pending if j.key not in plan.results or (job is not None and j.key == job.key)]
        cover_bytes = self.roster.cover.stat().st_size if self.roster.cover is not None and self.roster.cover.is_file() else 0
        need = sum(_estimate(j, cover_bytes) for j in left)
        what = f"the {len(left)} track{'s' if len(left) != 1 else ''} not rendered" if left else "the batch's files"
        done = [f"stopped at {job.client.name} / {job.spec.file_stem}"] if job is not None else []
        done.append(f"finished tracks are kept; published {len(published)} client{'s' if len(published) != 1 else ''} whose tracks all finished"
                    + (f" ({', '.join(published)})" if published else ""))  # fmt: skip
        if waiting:
            done.append(f"not published: {', '.join(waiting)}")
        folder = self.store.local_root or Path(self.store.display())
        return no_space(folder, need or None, what=what, done="; ".join(done), again="run the batch again: it renders only what is missing")

    def _finish(self, plan: BatchPlan) -> tuple[list[str], list[str], list[str]]:
        """Save the manifest, write the public root and the links, remove what this run left half-made.
        Returns the clients published, those with no recording ready, and those still waiting."""
        self._drop_uncollected(plan)
        self._save_manifest(plan)
        write_public_root(self.store)
        self.store.write_text(LINKS_NAME, links_csv(self.access, Path(self.store.display()), self.base_url, published=self._is_published))
        self.store.tidy(self.run_id, self.started)
        published = [c.name for c in self.roster.clients if c.name in self.published]
        nothing_ready = [
            c.name for c in plan.active
            if plan.complete(c) and c.name not in self.published and c.name not in self.not_published
        ]  # fmt: skip
        waiting = [c.name for c in plan.active if c.name not in self.published and c.name not in nothing_ready]
        return published, nothing_ready, waiting

    def _drop_uncollected(self, plan: BatchPlan) -> None:
        """A batch that stopped early (interrupted, out of room) may not have collected a track its
        worker finished writing just before it was stopped: its files are then on disk but not (or
        not as recorded) in the manifest. They go, so the manifest and the files agree (and the room
        comes back); the next run renders the track again, as it would have anyway."""
        for job in plan.pending:
            if job.key in plan.results:
                continue
            entry = self.manifest.tracks.get(job.key)
            if entry is not None and entry.files and all(self.store.intact(file) for file in entry.files.values()):
                continue  # still the files it records: the earlier render, untouched
            self.manifest.tracks.pop(job.key, None)
            stem = job.key.rsplit(".", 1)[0]
            settings = job.request.settings
            names = {job.key, f"{stem}.vtt"} | {f"{stem}{get_format(name).suffix}" for name in (settings.formats or (settings.format,)) if _known(name)}
            self.store.remove([name for name in sorted(names) if self.store.exists(name)])

    def _is_published(self, token: str) -> bool:
        return self.store.exists(f"public/{token}/index.html")

    def _report(self, plan: BatchPlan, published: list[str], nothing_ready: list[str]) -> BatchReport:
        store = self.store
        local = store.local_root is not None
        manifest_path: Path | str = Path(store.display(MANIFEST_NAME)) if local else store.display(MANIFEST_NAME)
        out_dir: Path | str = store.local_root if store.local_root is not None else store.display()
        revoked = [c.name for c in self.roster.clients if not plan.access[c.name].active]
        outcomes = [plan.results[key] for key in plan.keys]
        return BatchReport(outcomes, manifest_path, out_dir, self.base_url, len(self.roster.clients), published, nothing_ready, revoked,
                           not_published=dict(self.not_published))  # fmt: skip

    def _save_manifest(self, plan: BatchPlan) -> None:
        self.store.write_text(MANIFEST_NAME, self.manifest.dumps(plan.keys + plan.kept))

    def _save_access(self) -> None:
        self.store.write_text(ACCESS_NAME, self.access.dumps(), mode=ACCESS_MODE)

    def tell(self, client: str | None = None, track: str | None = None, event: str = "start") -> None:
        if self.progress is not None:
            plan = self.plan
            self.progress(Progress(len(plan.results), len(plan.keys), len(plan.pending), client, track, event, workers=self.workers))
