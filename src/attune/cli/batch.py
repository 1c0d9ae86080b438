"""`attune batch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .app import cli


@cli.command()
@click.argument("roster")
@click.option(
    "-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the clients' tracks, pages and feeds."
)
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
@click.option("--base-url", help="Public URL of the output folder, for the podcast feeds' enclosures.")
@click.option("--force", is_flag=True, help="Render every track again, even when its inputs are unchanged.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder.")
def batch(roster, out_dir, jobs, base_url, force, cache_dir):
    """Render every client's tracks in ROSTER, with a manifest, listening pages and private feeds.

    \b
    Example:
      attune batch clients.yaml -o deliver/ --base-url https://example.org/practice/
    """
    from ..delivery.batch import format_summary, run_batch

    bar = click.progressbar(length=1, label="rendering", file=sys.stderr) if sys.stderr.isatty() else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.length = total
            bar.update(done - bar.pos)

    report = run_batch(Path(roster), out_dir, jobs=jobs, base_url=base_url, force=force, cache_dir=cache_dir, progress=progress)
    if bar is not None:
        bar.render_finish()
    click.echo(format_summary(report))
    if report.failures:
        sys.exit(1)
