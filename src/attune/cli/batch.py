"""`attune batch`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .app import cli
from .options import engine_option, interval_bells_option, recording_options, track_settings, voices_dir_flag, with_options


@cli.command()
@click.argument("roster")
@click.option(
    "-o",
    "--output",
    "out_dir",
    help="Folder (or, with --cluster, any fsspec URL such as s3://bucket/prefix) for the batch: public/ (to upload) and what is kept (manifest, access, links).",
)
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes on this machine (default: one per core).")
@click.option("--cluster", metavar="local:N|tcp://HOST:PORT", help="Render on dask.distributed: N local worker processes, or an existing scheduler's workers.")
@click.option(
    "--storage-options",
    metavar="JSON",
    help='fsspec options for an -o URL and --cache-url, e.g. \'{"anon": false, "client_kwargs": {"region_name": "eu-west-1"}}\'.',
)
@click.option("--cache-url", metavar="URL", help="With --cluster: a shared speech store (s3://bucket/speech) every worker reads through and writes once.")
@click.option(
    "--allowed-failures", type=click.IntRange(0, 20), help="With --cluster local:N: how often a track's worker may die before the track is failed (default 2)."
)
@click.option("--base-url", help="Public URL of the output folder's public/, for the feeds and the links to send.")
@click.option("--force", is_flag=True, help="Render every track again, even when its inputs are unchanged.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder (on a cluster: on every worker).")
@click.option("--dry-run", is_flag=True, help="Check the roster and every track (as `attune check` does) and render nothing.")
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on warnings too (a voice that does not speak a script's `language:`): the roster is checked first, and nothing renders.",
)
@engine_option("Speech engine for every track, over the roster's `engine:` (pyttsx3 or piper).")
@interval_bells_option
@voices_dir_flag
@with_options(recording_options)
def batch(roster, out_dir, jobs, cluster, storage_options, cache_url, allowed_failures, base_url, force, cache_dir, dry_run, strict, engine, interval_bells_s,
          recording, clean, asr_model):  # fmt: skip
    """Render every client's tracks in ROSTER and publish each client behind a private link.

    Upload DIR/public/ as it is; keep the rest (manifest.json, access.json, links.csv).
    Send each client the page or feed URL from DIR/links.csv.

    \b
    Examples:
      attune batch clients.yaml -o deliver/ --base-url https://example.org/practice/
      attune batch clients.yaml -o deliver/ --cluster local:2
      attune batch clients.yaml -o s3://bucket/practice --cluster tcp://10.0.0.5:8786 --base-url https://cdn.example.org/practice/public/
      attune batch examples/clients.yaml --dry-run --strict
    """
    given = track_settings(engine=engine, interval_bells_s=interval_bells_s, recording=recording, clean=clean, asr_model=asr_model)
    overrides = given if given != track_settings() else None
    if not dry_run and out_dir is None:
        raise click.UsageError("Missing option '-o' / '--output'")
    if dry_run or strict:
        from ..checks.roster import check_roster
        from .check import report as print_report

        if print_report(check_roster(Path(roster), cache_dir, overrides), strict=strict):
            sys.exit(1)
        if dry_run:
            return
    from ..delivery.batch import BatchOptions, format_summary, run_batch
    from ..delivery.store import is_url

    dest = out_dir if is_url(out_dir) else Path(out_dir)
    options = BatchOptions(
        jobs=jobs, base_url=base_url, force=force, cache_dir=cache_dir, overrides=overrides,
        cluster=cluster, storage_options=_storage_options(storage_options) or {}, cache_url=cache_url, allowed_failures=allowed_failures,
    )  # fmt: skip
    report = run_batch(Path(roster), dest, options, progress=_progress())
    click.echo(format_summary(report))
    if report.failures:
        sys.exit(1)


def _storage_options(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"--storage-options is not JSON: {exc}") from None
    if not isinstance(options, dict):
        raise click.UsageError("--storage-options must be a JSON object, such as '{\"anon\": true}'")
    return options


def _progress():
    """A bar with the client being worked on, in a terminal; elsewhere one line per finished track."""
    if not sys.stderr.isatty():

        def line(p) -> None:
            if p.event == "start":
                click.echo(f"batch: {p.total} track{'s' if p.total != 1 else ''}, {p.to_render} to render", err=True)
            elif p.event in ("rendered", "failed"):
                click.echo(f"[{p.done}/{p.total}] {p.client} / {p.track}: {p.event}", err=True)
            elif p.event == "working":
                click.echo(f"[{p.done}/{p.total}] working: {', '.join(p.workers) if p.workers else 'no worker busy'}", err=True)

        return line
    bar = click.progressbar(length=1, label="batch", file=sys.stderr, show_eta=False)

    def update(p) -> None:
        bar.length = max(p.total, 1)
        label = {"start": "starting", "rendering": f"{p.client} / {p.track}", "publishing": f"publishing {p.client}"}.get(p.event, f"{p.client}")
        if p.event == "working":
            label = f"{len(p.workers)} working: " + ", ".join(w.split(" ", 1)[-1] for w in p.workers)
        bar.label = label[:40].ljust(40)
        bar.update(p.done - bar.pos)
        if p.done >= p.total and p.event in ("rendered", "failed", "publishing"):
            bar.render_finish()

    return update
