"""`attune batch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import cli
from .options import engine_option, voices_dir_flag


@cli.command()
@click.argument("roster")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the batch: public/ (to upload) and what is kept (manifest, access, links).",
)
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
@click.option("--base-url", help="Public URL of the output folder's public/, for the feeds and the links to send.")
@click.option("--force", is_flag=True, help="Render every track again, even when its inputs are unchanged.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder.")
@click.option("--dry-run", is_flag=True, help="Check the roster and every track (as `attune check` does) and render nothing.")
@engine_option("Speech engine for every track, over the roster's `engine:` (pyttsx3 or piper).")
@voices_dir_flag
def batch(roster, out_dir, jobs, base_url, force, cache_dir, dry_run, engine):
    """Render every client's tracks in ROSTER and publish each client behind a private link.

    Upload DIR/public/ as it is; keep the rest (manifest.json, access.json, links.csv).
    Send each client the page or feed URL from DIR/links.csv.

    \b
    Example:
      attune batch clients.yaml -o deliver/ --base-url https://example.org/practice/
      attune batch examples/clients.yaml --dry-run
    """
    if dry_run:
        from ..delivery.roster_check import check_roster
        from .check import report as print_report

        if print_report(check_roster(Path(roster), cache_dir), strict=False):
            sys.exit(1)
        return
    if out_dir is None:
        raise click.UsageError("Missing option '-o' / '--output'")
    from ..delivery.batch import format_summary, run_batch
    from ..settings import TrackSettings

    overrides = TrackSettings(engine=engine) if engine else None
    report = run_batch(Path(roster), out_dir, jobs=jobs, base_url=base_url, force=force, cache_dir=cache_dir, progress=_progress(), overrides=overrides)
    click.echo(format_summary(report))
    if report.failures:
        sys.exit(1)


def _progress():
    """A bar with the client being worked on, in a terminal; elsewhere one line per finished track."""
    if not sys.stderr.isatty():

        def line(p) -> None:
            if p.event == "start":
                click.echo(f"batch: {p.total} track{'s' if p.total != 1 else ''}, {p.to_render} to render", err=True)
            elif p.event in ("rendered", "failed"):
                click.echo(f"[{p.done}/{p.total}] {p.client} / {p.track}: {p.event}", err=True)

        return line
    bar = click.progressbar(length=1, label="batch", file=sys.stderr, show_eta=False)

    def update(p) -> None:
        bar.length = max(p.total, 1)
        label = {"start": "starting", "rendering": f"{p.client} / {p.track}", "publishing": f"publishing {p.client}"}.get(p.event, f"{p.client}")
        bar.label = label[:40].ljust(40)
        bar.update(p.done - bar.pos)
        if p.done >= p.total and p.event in ("rendered", "failed", "publishing"):
            bar.render_finish()

    return update
