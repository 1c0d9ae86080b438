"""The batch: render every client's tracks from a roster, then publish a page, a feed and a zip each.

```
DIR/manifest.json                 what was rendered, from what, with sizes, sha256 sums and figures
DIR/<client>/01-<track>.mp3 .vtt  the recordings and their captions
DIR/<client>/index.html           the listening page (relative links: works from disk)
DIR/<client>/feed.xml             a private podcast feed
DIR/<client>/cover.png            the roster's cover, when it has one
DIR/<client>.zip                  the recordings, captions, page (and cover) to hand over
```

Every path is built from slugs and checked to stay inside DIR; every file is written atomically.
One failing track never stops the others: its error is recorded in the report. A track whose
request fingerprint matches the manifest, and whose files are intact, is not rendered again.
Tracks render in `jobs` worker processes, longest first (`attune.delivery.pool`). The parent itself
never imports the renderer unless it renders (`--jobs 1`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AttuneError, ScriptError, SettingsError
from ..request import RenderRequest, default_cache_dir, request_fingerprint
from ..settings import TrackSettings
from .feed import check_base_url
from .jobs import Job, JobMeta, JobResult, run_job, unchanged
from .layout import inside, output_root
from .manifest import MANIFEST_NAME, Manifest, TrackEntry
from .pool import run_pool
from .publish import publish_client
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
    audio: Path | None
    vtt: Path | None = None
    client_slug: str = ""
    title: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class BatchReport:
    """Every track's outcome, in roster order, and where the manifest is."""

    outcomes: list[TrackOutcome]
    manifest_path: Path
    out_dir: Path
    base_url: str | None = None
    clients: int = 0

    @property
    def failures(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def rendered(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if o.ok and not o.skipped]

    @property
    def skipped(self) -> list[TrackOutcome]:
        return [o for o in self.outcomes if o.skipped]


def format_summary(report: BatchReport) -> str:
    """One line per failed track (client, track, error), then a count line."""
    lines = [f"failed: {o.client} / {o.track}: {o.error}" for o in report.failures]
    if report.base_url is None:
        lines.append("note: the feeds link to file:// paths on this computer; pass --base-url to publish them")
    total = len(report.outcomes)
    counts = f"{len(report.rendered)} rendered, {len(report.skipped)} unchanged, {len(report.failures)} failed"
    clients = f"{report.clients} client{'s' if report.clients != 1 else ''}"
    lines.append(f"{total} track{'s' if total != 1 else ''} for {clients}: {counts} → {report.out_dir}")
    return "\n".join(lines)


def track_request(roster: Roster, spec: TrackSpec, output_path: Path, overrides: TrackSettings | None = None) -> RenderRequest:
    """What one roster track asks the renderer for: flags over the track's settings (which are the
    track's over the roster's defaults); the script's own come under them in the renderer."""
    settings = overrides.over(spec.settings) if overrides is not None else spec.settings
    return RenderRequest(
        script_path=spec.script,
        output_path=output_path,
        settings=settings,
        captions=True,
        cover=roster.cover,
        artist=roster.practitioner,
        album=roster.title,
        track=(spec.number, spec.total),
        title=spec.title,
    )


def run_batch(
    roster_path: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    base_url: str | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    overrides: TrackSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    render_fn: Callable[..., Any] | None = None,
    fingerprint_fn: Callable[[Any], str] | None = None,
) -> BatchReport:
    """Render a roster into `out_dir`; see the module docstring for the layout.

    `overrides` are settings given on the command line: they win over every track's. `render_fn`
    and `fingerprint_fn` default to `attune.render.render` (imported only where a track renders) and
    `attune.request.request_fingerprint`; with `jobs` above 1 they must be module-level functions
    (they are sent to worker processes). Raises AttuneError only for problems with the whole
    batch (the roster, the output folder, the settings); track problems are in the report.
    """
    if jobs is not None and jobs < 1:
        raise SettingsError(f"--jobs {jobs} must be at least 1", "use --jobs 1 to render one track at a time")
    if base_url is not None:
        base_url = check_base_url(base_url)
    roster = load_roster(roster_path)
    fingerprint_fn = fingerprint_fn or request_fingerprint
    # Decided here, not in the workers: a forkserver's workers see the environment (and folder) of
    # the moment the server started, which in a long-lived process may not be the caller's now.
    cache_dir = Path(cache_dir).resolve() if cache_dir is not None else default_cache_dir()

    started = time.time() - 1.0  # mtime granularity
    out_root = output_root(Path(out_dir))
    manifest_path = out_root / MANIFEST_NAME
    previous = Manifest.load(manifest_path, str(roster.path.resolve()))
    manifest = Manifest(previous.roster, dict(previous.tracks))  # updated as tracks finish, pruned to the roster when saved
    keys: list[str] = []
    results: dict[str, TrackOutcome] = {}
    pending: list[tuple[tuple[Client, TrackSpec], Job]] = []
    for client in roster.clients:
        client_dir = inside(out_root, out_root / client.slug)
        client_dir.mkdir(exist_ok=True)
        for spec in client.tracks:
            settings = overrides.over(spec.settings) if overrides is not None else spec.settings
            audio = inside(out_root, client_dir / f"{spec.file_stem}.{settings.format}")
            key = audio.relative_to(out_root).as_posix()
            keys.append(key)
            meta = JobMeta(client.name, client.slug, spec.file_stem, spec.number, spec.script_text, settings.length_s, settings.voice)
            problem: AttuneError | None = None
            if not spec.script.is_file():
                what = "is not a file" if spec.script.exists() else "does not exist"
                problem = ScriptError(
                    f"the script {spec.script_text} {what}", "check the path: it is relative to the roster file", path=str(roster.path), line=spec.line
                )
            else:
                try:
                    job = Job(key, track_request(roster, spec, audio, overrides), spec.title, render_fn, fingerprint_fn, cache_dir, out_root, meta)
                except AttuneError as exc:  # a setting the renderer refuses outright
                    problem = exc
            if problem is not None:
                results[key] = _failed(client, spec, str(problem))
                manifest.tracks.pop(key, None)
            elif not force and unchanged(previous.tracks.get(key), job):
                results[key] = _succeeded(client, spec, previous.tracks[key], out_root, skipped=True)
            else:
                pending.append(((client, spec), job))

    total = len(keys)
    done = 0
    last_saved = time.monotonic()

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def record(tag: tuple[Client, TrackSpec], job: Job, result: JobResult) -> None:
        nonlocal last_saved
        client, spec = tag
        if result.entry is not None:
            manifest.tracks[job.key] = result.entry
            results[job.key] = _succeeded(client, spec, result.entry, out_root, skipped=False)
        else:
            manifest.tracks.pop(job.key, None)
            results[job.key] = _failed(client, spec, result.error or "unknown error")
        if time.monotonic() - last_saved >= MANIFEST_SAVE_INTERVAL_S:
            manifest.save(manifest_path, keys)
            last_saved = time.monotonic()
        tick()

    for _ in results:
        tick()
    workers = min(jobs or os.cpu_count() or 1, len(pending))
    try:
        if workers <= 1:
            for tag, job in pending:
                record(tag, job, run_job(job))
        else:
            # Longest first, so that the last track to finish is a short one (less time with one core idle).
            pending.sort(key=lambda item: -(item[1].meta.length_s or 0.0))
            run_pool(pending, workers, record)
    except BaseException:
        # Interrupted (or broken): what finished is recorded, so that a re-run skips it.
        with contextlib.suppress(Exception):
            manifest.save(manifest_path, keys)
        _sweep_temporaries(out_root, started)
        raise
    manifest.save(manifest_path, keys)

    for client in roster.clients:
        client_entries = [manifest.tracks[key] for key in keys if key in manifest.tracks and manifest.tracks[key].client_slug == client.slug]
        publish_client(roster, client, out_root, client_entries, base_url)
    return BatchReport([results[key] for key in keys], manifest_path, out_root, base_url, len(roster.clients))


def _sweep_temporaries(out_root: Path, since: float) -> None:
    """Backstop after an interrupted batch: remove temporary outputs (`.NAME.*.part`) that this run's
    workers left behind, e.g. a worker stopped hard mid-cleanup. Only files from this run are touched."""
    for tmp in out_root.rglob(".*.part"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and tmp.stat().st_mtime >= since:
                tmp.unlink()


def _failed(client: Client, spec: TrackSpec, error: str) -> TrackOutcome:
    return TrackOutcome(client=client.name, track=spec.file_stem, ok=False, skipped=False, error=error, audio=None, client_slug=client.slug, title=spec.title)


def _succeeded(client: Client, spec: TrackSpec, entry: TrackEntry, out_root: Path, *, skipped: bool) -> TrackOutcome:
    captions = entry.captions
    return TrackOutcome(
        client=client.name,
        track=spec.file_stem,
        ok=True,
        skipped=skipped,
        error=None,
        audio=out_root / entry.audio.path,
        vtt=out_root / captions.path if captions else None,
        client_slug=client.slug,
        title=entry.title,
        duration_s=entry.audio.duration_s,
    )
