"""One track of a batch as a job: what to render, and rendering it where the job runs.

A job is picklable (it is sent to worker processes); `run_job` never raises for a track's problem:
the `JobResult` carries the error, so one broken track never stops the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import AttuneError, NoSpaceError, OutputError
from ..system.space import is_no_space, no_space
from .layout import inside
from .manifest import FileEntry, TrackEntry, rounded_figure


@dataclass(frozen=True)
class JobMeta:
    """Who and what a track is, recorded in the manifest beside what was rendered."""

    client: str
    client_id: str
    track: str
    number: int
    script: str
    length_s: float | None
    voice: str | None


@dataclass(frozen=True)
class Job:
    key: str  # the audio file's path relative to DIR, e.g. "ana/01-loving-kindness.mp3"
    request: Any
    title_override: str | None
    render_fn: Callable[..., Any] | None  # None: attune.render.render, imported where the job runs
    #: The request's fingerprint, computed once when the batch was planned.
    fingerprint: str
    cache_dir: Path | None
    out_root: Path
    meta: JobMeta


@dataclass(frozen=True)
class JobResult:
    """A rendered track's manifest entry, or the error that stopped it."""

    entry: TrackEntry | None = None
    error: str | None = None
    #: The track failed because the disk (or a file-size limit) ran out: the batch stops.
    no_space: bool = False

    @property
    def ok(self) -> bool:
        return self.entry is not None


def run_job(job: Job) -> JobResult:
    """Render one track; never raises for a track problem."""
    try:
        return JobResult(entry=render_entry(job.request, job.render_fn, job.cache_dir, job.out_root, job.meta, job.title_override, job.fingerprint))
    except AttuneError as exc:
        return JobResult(error=str(exc), no_space=isinstance(exc, NoSpaceError))
    except OSError as exc:
        if is_no_space(exc):
            return JobResult(error=str(no_space(Path(job.request.output_path).parent, None)), no_space=True)
        return JobResult(error=f"internal error: {type(exc).__name__}: {exc}")
    except Exception as exc:  # one track's bug must not stop the batch; it is reported as such
        return JobResult(error=f"internal error: {type(exc).__name__}: {exc}")


def render_entry(
    request: Any, render_fn: Callable[..., Any] | None, cache_dir: Path | None, out_root: Path, meta: JobMeta, title_override: str | None, fingerprint: str
) -> TrackEntry:
    """Render `request` (its files under `out_root`) and return its manifest entry; raises what the render raises."""
    render_fn = render_fn or importlib.import_module("attune.render").render
    result = render_fn(request, cache_dir=cache_dir)
    audio = inside(out_root, Path(result.output_path))
    if audio != inside(out_root, Path(request.output_path)):
        raise OutputError(f"the renderer wrote {audio}, not {request.output_path}", "this is a bug in the renderer")
    title = result.title
    duration_s = float(result.duration_s)
    from ..media.measure import audio_bitrate_kbps  # here: the batch's parent process stays free of numpy

    # Every format the track was rendered in, the first (the feed's enclosure) first, each with its
    # own figures, measured from that file.
    written = [(w.format, Path(w.path), w.duration_s, w) for w in result.outputs]
    if not written:
        raise OutputError("the renderer reported success but wrote no audio", "this is a bug in the renderer", path=str(audio))
    files: dict[str, FileEntry] = {}
    for kind, path, seconds, measured in written:
        path = inside(out_root, path)
        if not path.is_file():
            raise OutputError("the renderer reported success but wrote no audio", "this is a bug in the renderer", path=str(path))
        files[kind] = FileEntry.of(path, out_root, seconds, voice_lufs=measured.voice_lufs, track_lufs=measured.track_lufs,
                                   true_peak_dbtp=measured.true_peak_dbtp, bitrate_kbps=audio_bitrate_kbps(path, seconds))  # fmt: skip
    if result.captions_path is not None:
        vtt = inside(out_root, Path(result.captions_path))
        if vtt.is_file():
            files["vtt"] = FileEntry.of(vtt, out_root)
    entry = TrackEntry(
        client=meta.client,
        client_id=meta.client_id,
        track=meta.track,
        number=meta.number,
        script=meta.script,
        length_s=meta.length_s,
        voice=meta.voice,
        title=title,
        title_override=title_override,
        description=result.description,
        artist=result.artist,
        voice_id=result.voice_id,
        duration_s=round(duration_s, 3),
        fingerprint=fingerprint,
        rendered_at=datetime.now(UTC).isoformat(timespec="seconds"),
        transcript=result.transcript,
        files=files,
        voice_lufs=rounded_figure(result.voice_lufs),
        track_lufs=rounded_figure(result.track_lufs),
        true_peak_dbtp=rounded_figure(result.true_peak_dbtp),
        limiter_reduction_db=round(result.limiter_reduction_db, 2),
        chapters=tuple((name, round(start_s, 3)) for name, start_s, _ in result.plan.chapters()),
    )
    return entry
