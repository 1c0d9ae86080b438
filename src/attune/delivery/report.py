"""What a batch tells: each track's outcome, its progress as it goes, the report and its summary lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .access import LINKS_NAME


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


def interrupted_message(published: list[str], waiting: list[str]) -> str:
    done = f"published {_plural(len(published), 'client')} whose tracks all finished ({', '.join(published)})" if published else "published no client"
    rest = f"; not published: {', '.join(waiting)} — a re-run completes them" if waiting else ""
    return f"interrupted — {done}{rest}; no partial file was left"
