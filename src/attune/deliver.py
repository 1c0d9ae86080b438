"""The batch: render every client's tracks from a roster, then publish a page, a feed and a zip each.

```
DIR/manifest.json                 what was rendered, from what, with sizes and sha256 sums
DIR/<client>/01-<track>.mp3 .vtt  the recordings and their captions
DIR/<client>/index.html           the listening page (relative links: works from disk)
DIR/<client>/feed.xml             a private podcast feed
DIR/<client>/cover.png            the roster's cover, when it has one
DIR/<client>.zip                  the recordings, captions, page (and cover) to hand over
```

Every path is built from slugs and checked to stay inside DIR; every file is written atomically.
One failing track never stops the others: its error is recorded in the report. A track whose
request fingerprint matches the manifest, and whose files are intact, is not rendered again.
Tracks render in `jobs` worker processes, longest first. Workers are forked from a forkserver that
has already imported the renderer (numpy, scipy…), so each starts in milliseconds and none inherits
the parent's state; where there is no forkserver (Windows), they are spawned. The parent itself
never imports the renderer unless it renders (`--jobs 1`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import importlib
import json
import multiprocessing
import os
import signal
import shutil
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .atomic import atomic_path, write_text
from .errors import AttuneError, OutputError, ScriptError, SettingsError
from .feed import FeedChannel, FeedItem, check_base_url, feed_xml, file_url, guid_for
from .page import PageTrack, page_html
from .request import RenderRequest, default_cache_dir, request_fingerprint
from .roster import Client, Roster, TrackSpec, load_roster
from .tags import cover_mime, set_title

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
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
    mp3: Path | None
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


# -- jobs (run in worker processes) ------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    key: str  # the mp3 path relative to DIR, e.g. "ana/01-loving-kindness.mp3"
    request: Any
    title_override: str | None
    render_fn: Callable[..., Any] | None  # None: attune.render.render, imported where the job runs
    fingerprint_fn: Callable[[Any], str]
    cache_dir: Path | None
    out_root: Path
    meta: Mapping[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_MP3_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_duration_s(path: Path) -> float | None:
    """The playing time of an MP3 as players report it, or None when it cannot be read as one.

    With a Xing/Info header this is frames × samples per frame minus the encoder delay and padding
    recorded in its LAME extension, which is what ffmpeg and browsers show. mutagen ignores that
    extension unless the encoder string starts with "LAME", and ffmpeg writes "Lavc…" there, so
    mutagen's figure would be up to ~0.08 s long. Without a Xing header, mutagen's estimate is used.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            start = 0
            if head[:3] == b"ID3" and len(head) == 10:
                size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
                start = 10 + size + (10 if head[5] & 0x10 else 0)
            handle.seek(start)
            data = handle.read(4096)
        sync = next(i for i in range(len(data) - 4) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0)
        header = int.from_bytes(data[sync : sync + 4], "big")
        version, layer = (header >> 19) & 3, (header >> 17) & 3
        rate_index, mono = (header >> 10) & 3, ((header >> 6) & 3) == 3
        if layer != 1 or version == 1 or rate_index == 3:  # layer III only
            raise ValueError("not an MPEG layer III frame")
        sample_rate = _MP3_SAMPLE_RATES[version][rate_index]
        mpeg1 = version == 3
        samples_per_frame = 1152 if mpeg1 else 576
        offset = sync + 4 + ((17 if mono else 32) if mpeg1 else (9 if mono else 17))
        if data[offset : offset + 4] not in (b"Xing", b"Info"):
            raise ValueError("no Xing header")
        flags = int.from_bytes(data[offset + 4 : offset + 8], "big")
        if not flags & 1:
            raise ValueError("no frame count")
        frames = int.from_bytes(data[offset + 8 : offset + 12], "big")
        ext = offset + 12 + (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
        samples = frames * samples_per_frame
        encoder = data[ext : ext + 4]
        if encoder in (b"LAME", b"Lavc", b"Lavf", b"L3.9") and len(data) >= ext + 24:
            gapless = int.from_bytes(data[ext + 21 : ext + 24], "big")
            samples -= (gapless >> 12) + (gapless & 0xFFF)
        return max(samples, 0) / sample_rate
    except (OSError, StopIteration, ValueError, IndexError, KeyError):
        pass
    try:
        from mutagen.mp3 import MP3

        return float(MP3(str(path)).info.length)
    except Exception:  # not decodable as MP3 at all
        return None


def _inside(root: Path, path: Path) -> Path:
    """`path` resolved, or OutputError when it is not inside `root` (which must be resolved)."""
    resolved = Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise OutputError(f"refusing to write {path}: it is outside {root}", "check the roster's names and the output folder", path=str(path))
    return resolved


def _rounded(value: float | None) -> float | None:
    """A measured figure for JSON: 2 decimals; None (null) for no value or -inf (silence)."""
    return round(value, 2) if value is not None and value > float("-inf") else None


def _run_job(job: _Job) -> dict[str, Any]:
    """Render one track; never raises for a track problem: returns {"ok": False, "error": …} instead."""
    try:
        fingerprint = job.fingerprint_fn(job.request)
        render_fn = job.render_fn or importlib.import_module("attune.render").render
        result = render_fn(job.request, cache_dir=job.cache_dir)
        mp3 = _inside(job.out_root, Path(result.output_path))
        if mp3 != _inside(job.out_root, Path(job.request.output_path)):
            raise OutputError(f"the renderer wrote {mp3}, not {job.request.output_path}", "this is a bug in the renderer")
        if not mp3.is_file():
            raise OutputError("the renderer reported success but wrote no MP3", "this is a bug in the renderer", path=str(mp3))
        title = result.title
        if job.title_override and job.title_override != result.title:
            set_title(mp3, job.title_override)
            title = job.title_override
        duration_s = mp3_duration_s(mp3)
        if duration_s is None:
            duration_s = float(result.duration_s)
        files = {"mp3": {"path": job.key, "bytes": mp3.stat().st_size, "duration_s": round(duration_s, 3), "sha256": _sha256(mp3)}}
        if result.captions_path is not None:
            vtt = _inside(job.out_root, Path(result.captions_path))
            if vtt.is_file():
                files["vtt"] = {"path": vtt.relative_to(job.out_root).as_posix(), "bytes": vtt.stat().st_size, "sha256": _sha256(vtt)}
        entry = {
            **job.meta,
            "title": title,
            "title_override": job.title_override,
            "description": result.description,
            "artist": result.artist,
            "voice_id": result.voice_id,
            "duration_s": round(duration_s, 3),
            # Measured on the file as written (see attune.measure); voice_lufs is null with no voice.
            "voice_lufs": _rounded(result.voice_lufs),
            "track_lufs": _rounded(result.track_lufs),
            "true_peak_dbtp": _rounded(result.true_peak_dbtp),
            "limiter_reduction_db": round(result.limiter_reduction_db, 2),
            "fingerprint": fingerprint,
            "rendered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "transcript": result.transcript,
            "files": files,
        }
        return {"ok": True, "entry": entry}
    except AttuneError as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # one track's bug must not stop the batch; it is reported as such
        return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}


# -- the manifest --------------------------------------------------------------------------------


def _load_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Previous entries by mp3 path; an unreadable or foreign manifest counts as empty (all re-render)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("attune_manifest") != MANIFEST_VERSION or not isinstance(data.get("tracks"), list):
        return {}
    entries = {}
    for entry in data["tracks"]:
        try:
            entries[entry["files"]["mp3"]["path"]] = entry
        except (KeyError, TypeError):
            continue
    return entries


def _write_manifest(path: Path, roster: Roster, keys: list[str], entries: Mapping[str, dict[str, Any]]) -> None:
    tracks = [entries[key] for key in keys if key in entries]
    data = {"attune_manifest": MANIFEST_VERSION, "roster": str(roster.path.resolve()), "tracks": tracks}
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _files_intact(entry: Mapping[str, Any], out_root: Path, *, check_sha256: bool = True) -> bool:
    """The entry's files exist inside `out_root` with the recorded sizes (and sha256 sums)."""
    try:
        files = entry["files"]
        if "mp3" not in files:
            return False
        for info in files.values():
            path = _inside(out_root, out_root / info["path"])
            if not path.is_file() or path.stat().st_size != info["bytes"]:
                return False
            if check_sha256 and _sha256(path) != info["sha256"]:
                return False
    except (KeyError, TypeError, OSError, AttuneError):
        return False
    return True


def _unchanged(entry: Mapping[str, Any] | None, job: _Job) -> bool:
    if not entry or entry.get("title_override") != job.title_override:
        return False
    try:
        if job.fingerprint_fn(job.request) != entry.get("fingerprint"):
            return False
    except Exception:  # the render will report whatever is wrong
        return False
    return _files_intact(entry, job.out_root)


# -- publishing ------------------------------------------------------------------------------------


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _copy_if_changed(source: Path, target: Path) -> None:
    try:
        if target.stat().st_size == source.stat().st_size and _sha256(target) == _sha256(source):
            return
    except OSError:
        pass
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _publish_client(roster: Roster, client: Client, out_root: Path, entries: list[dict[str, Any]], base_url: str | None) -> None:
    client_dir = _inside(out_root, out_root / client.slug)
    ready = [entry for entry in entries if _files_intact(entry, out_root, check_sha256=False)]

    cover_name = None
    if roster.cover is not None:
        cover_name = "cover.png" if cover_mime(roster.cover) == "image/png" else "cover.jpg"
        _copy_if_changed(roster.cover, _inside(out_root, client_dir / cover_name))

    def url(relative: str) -> str:
        return file_url(relative, base_url=base_url, root=out_root)

    page_tracks, feed_items = [], []
    for entry in ready:
        mp3 = entry["files"]["mp3"]
        vtt = entry["files"].get("vtt")
        mp3_name = Path(mp3["path"]).name
        page_tracks.append(
            PageTrack(
                number=entry["number"],
                title=entry["title"],
                duration_s=mp3["duration_s"],
                mp3_name=mp3_name,
                vtt_name=Path(vtt["path"]).name if vtt else None,
                description=entry.get("description"),
                transcript=entry.get("transcript") or "",
            )
        )
        feed_items.append(
            FeedItem(
                title=entry["title"],
                guid=guid_for(client.slug, mp3_name),
                published=datetime.fromisoformat(entry["rendered_at"]),
                url=url(mp3["path"]),
                length_bytes=mp3["bytes"],
                duration_s=mp3["duration_s"],
                number=entry["number"],
                description=entry.get("description"),
                transcript_url=url(vtt["path"]) if vtt else None,
                transcript_language=roster.language,
            )
        )

    html = page_html(
        client_name=client.name,
        practitioner=roster.practitioner,
        title=roster.title,
        description=roster.description,
        language=roster.language,
        cover_name=cover_name,
        tracks=page_tracks,
    )
    page_path = _inside(out_root, client_dir / "index.html")
    _write_if_changed(page_path, html.encode("utf-8"))

    channel = FeedChannel(
        title=f"{roster.title} · {client.name}",
        link=url(f"{client.slug}/index.html"),
        description=roster.description or f"Practice recordings for {client.name} from {roster.practitioner}.",
        language=roster.language,
        author=roster.practitioner,
        image_url=url(f"{client.slug}/{cover_name}") if cover_name else None,
        self_url=url(f"{client.slug}/feed.xml") if base_url else None,
    )
    _write_if_changed(_inside(out_root, client_dir / "feed.xml"), feed_xml(channel, feed_items))

    members = []
    for entry in ready:
        for kind in ("mp3", "vtt"):
            if kind in entry["files"]:
                members.append(_inside(out_root, out_root / entry["files"][kind]["path"]))
    members.append(page_path)
    if cover_name:
        members.append(client_dir / cover_name)
    _write_zip(_inside(out_root, out_root / f"{client.slug}.zip"), client.slug, members)


def _write_zip(zip_path: Path, folder: str, members: list[Path]) -> None:
    """A zip whose entries unpack into `folder/`; MP3s are stored, text is deflated."""
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            for member in members:
                info = zipfile.ZipInfo.from_file(member, arcname=f"{folder}/{member.name}")
                info.compress_type = zipfile.ZIP_STORED if member.suffix in (".mp3", ".png", ".jpg") else zipfile.ZIP_DEFLATED
                with open(member, "rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)


# -- the batch ---------------------------------------------------------------------------------------


def _request(roster: Roster, spec: TrackSpec, output_path: Path) -> RenderRequest:
    return RenderRequest(
        script_path=spec.script,
        output_path=output_path,
        length_s=spec.length_s,
        voice=spec.voice,
        rate_wpm=spec.rate_wpm,
        pitch=spec.pitch,
        background=spec.background,
        background_db=spec.background_db,
        vars=dict(spec.vars),
        bells=spec.bells,
        captions=True,
        cover=roster.cover,
        artist=roster.practitioner,
        album=roster.title,
        track=(spec.number, spec.total),
    )


def run_batch(
    roster_path: Path,
    out_dir: Path,
    *,
    jobs: int | None = None,
    base_url: str | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    render_fn: Callable[..., Any] | None = None,
    fingerprint_fn: Callable[[Any], str] | None = None,
) -> BatchReport:
    """Render a roster into `out_dir`; see the module docstring for the layout.

    `render_fn` and `fingerprint_fn` default to `attune.render.render` (imported only where a
    track renders) and `attune.request.request_fingerprint`; with `jobs` above 1 they must be module-level functions
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
    out_root = _output_root(Path(out_dir))
    manifest_path = out_root / MANIFEST_NAME
    previous = _load_manifest(manifest_path)
    entries = dict(previous)  # by mp3 path; updated as tracks finish, pruned to the roster when written
    keys: list[str] = []
    results: dict[str, TrackOutcome] = {}
    pending: list[tuple[Client, TrackSpec, _Job]] = []
    for client in roster.clients:
        client_dir = _inside(out_root, out_root / client.slug)
        client_dir.mkdir(exist_ok=True)
        for spec in client.tracks:
            mp3 = _inside(out_root, client_dir / f"{spec.file_stem}.mp3")
            key = mp3.relative_to(out_root).as_posix()
            keys.append(key)
            meta = {"client": client.name, "client_slug": client.slug, "track": spec.file_stem, "number": spec.number,
                    "script": spec.script_text, "length_s": spec.length_s, "voice": spec.voice}
            problem = None
            if not spec.script.is_file():
                what = "is not a file" if spec.script.exists() else "does not exist"
                problem = ScriptError(f"the script {spec.script_text} {what}", "check the path: it is relative to the roster file", path=str(roster.path), line=spec.line)
            else:
                try:
                    job = _Job(key, _request(roster, spec, mp3), spec.title, render_fn, fingerprint_fn, cache_dir, out_root, meta)
                except AttuneError as exc:  # a setting the renderer refuses outright
                    problem = exc
            if problem is not None:
                results[key] = _failed(client, spec, str(problem))
                entries.pop(key, None)
            elif not force and _unchanged(previous.get(key), job):
                results[key] = _succeeded(client, spec, previous[key], out_root, skipped=True)
            else:
                pending.append((client, spec, job))

    total = len(keys)
    done = 0
    last_saved = time.monotonic()

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    def record(client: Client, spec: TrackSpec, job: _Job, outcome: dict[str, Any]) -> None:
        nonlocal last_saved
        if outcome["ok"]:
            entries[job.key] = outcome["entry"]
            results[job.key] = _succeeded(client, spec, outcome["entry"], out_root, skipped=False)
        else:
            entries.pop(job.key, None)
            results[job.key] = _failed(client, spec, outcome["error"])
        if time.monotonic() - last_saved >= MANIFEST_SAVE_INTERVAL_S:
            _write_manifest(manifest_path, roster, keys, entries)
            last_saved = time.monotonic()
        tick()

    for _ in results:
        tick()
    workers = min(jobs or os.cpu_count() or 1, len(pending))
    try:
        if workers <= 1:
            for client, spec, job in pending:
                record(client, spec, job, _run_job(job))
        else:
            # Longest first, so that the last track to finish is a short one (less time with one core idle).
            pending.sort(key=lambda item: -(item[1].length_s or 0.0))
            _run_pool(pending, workers, record)
    except BaseException:
        # Interrupted (or broken): what finished is recorded, so that a re-run skips it.
        with contextlib.suppress(Exception):
            _write_manifest(manifest_path, roster, keys, entries)
        _sweep_temporaries(out_root, started)
        raise
    _write_manifest(manifest_path, roster, keys, entries)

    for client in roster.clients:
        client_entries = [entries[key] for key in keys if key in entries and entries[key]["client_slug"] == client.slug]
        _publish_client(roster, client, out_root, client_entries, base_url)
    return BatchReport([results[key] for key in keys], manifest_path, out_root, base_url, len(roster.clients))


def _sweep_temporaries(out_root: Path, since: float) -> None:
    """Backstop after an interrupted batch: remove temporary outputs (`.NAME.*.part`) that this run's
    workers left behind, e.g. a worker stopped hard mid-cleanup. Only files from this run are touched."""
    for tmp in out_root.rglob(".*.part"):
        with contextlib.suppress(OSError):
            if tmp.is_file() and tmp.stat().st_mtime >= since:
                tmp.unlink()


def _output_root(out_dir: Path) -> Path:
    """Create the output folder if needed; return it resolved."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", "choose another folder with -o", path=str(out_dir)) from None
    if not out_dir.is_dir():
        raise OutputError("the output path is not a folder", "choose a folder with -o", path=str(out_dir))
    return out_dir.resolve()


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


def _run_job_in_worker(job: _Job) -> dict[str, Any]:
    global _worker_busy
    _worker_busy = True
    try:
        return _run_job(job)
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
_WORKER_PRELOAD = ["attune.preload"]


def _pool_context() -> multiprocessing.context.BaseContext:
    """Forkserver where there is one (Linux, macOS): workers start as forks of a process that has
    already imported the renderer, instead of each spending a second or more importing it.
    The forkserver itself is started from a clean interpreter, so no worker inherits the caller's
    threads or state. Elsewhere (Windows), spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_WORKER_PRELOAD)  # takes effect when the server first starts
        return context
    return multiprocessing.get_context("spawn")


def _run_pool(pending: list[tuple[Client, TrackSpec, _Job]], workers: int, record: Callable[..., None]) -> None:
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(), initializer=_worker_init)
    futures: dict[concurrent.futures.Future, tuple[Client, TrackSpec, _Job]] = {}
    try:
        for client, spec, job in pending:
            try:
                futures[pool.submit(_run_job_in_worker, job)] = (client, spec, job)
            except (OSError, EOFError, concurrent.futures.process.BrokenProcessPool) as exc:
                raise AttuneError(f"could not start {workers} worker processes ({type(exc).__name__}: {exc})",
                                  "render with --jobs 1, and run `attune doctor`") from exc
        for future in concurrent.futures.as_completed(futures):
            client, spec, job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker died, or the job could not be sent to it
                outcome = {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}
            record(client, spec, job, outcome)
    except BaseException:
        for future in futures:
            future.cancel()
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _failed(client: Client, spec: TrackSpec, error: str) -> TrackOutcome:
    return TrackOutcome(client=client.name, track=spec.file_stem, ok=False, skipped=False, error=error, mp3=None, client_slug=client.slug, title=spec.title)


def _succeeded(client: Client, spec: TrackSpec, entry: Mapping[str, Any], out_root: Path, *, skipped: bool) -> TrackOutcome:
    files = entry["files"]
    return TrackOutcome(
        client=client.name,
        track=spec.file_stem,
        ok=True,
        skipped=skipped,
        error=None,
        mp3=out_root / files["mp3"]["path"],
        vtt=out_root / files["vtt"]["path"] if "vtt" in files else None,
        client_slug=client.slug,
        title=entry.get("title"),
        duration_s=files["mp3"].get("duration_s"),
    )
