"""`attune check`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AttuneError
from .app import cli
from .options import interval_bells_option, recording_options, track_settings, vars_option, with_options


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--var", "vars", multiple=True, callback=vars_option, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable.")
@click.option("--strict", is_flag=True, help="Fail on warnings too (text that looks like a marker but would be spoken).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder, for the lengths of speech already made.")
@interval_bells_option
@with_options(recording_options)
def check(files, vars, strict, cache_dir, interval_bells_s, recording, clean, asr_model):
    """Validate scripts, or rosters and every track in them, without rendering anything.

    Every error in a file is listed, each as FILE:LINE. A roster's problems read
    ROSTER:LINE: client / track: what is wrong — how to fix it.

    \b
    Examples:
      attune check scripts/*.yaml scripts/*.md
      attune check examples/clients.yaml --strict
      attune check my-practice.yaml --recording my-take.m4a
    """
    from ..checks.script import check_script, is_roster

    given = track_settings(interval_bells_s=interval_bells_s, recording=recording, clean=clean, asr_model=asr_model)
    overrides = given if given != track_settings() else None
    failed = 0
    for path in files:
        try:
            if is_roster(Path(path)):  # known by its keys
                from ..checks.roster import check_roster

                result = check_roster(Path(path), cache_dir, overrides)
            else:
                result = check_script(Path(path), vars, cache_dir, overrides)
        except AttuneError as exc:
            failed += 1
            for line in exc.lines():
                click.echo(f"Error: {line}", err=True)
            for line in exc.warnings:  # beside the errors: one run shows everything to fix
                click.echo(f"{'Error' if strict else 'Warning'}: {line}", err=True)
            continue
        if report(result, strict):
            failed += 1
    if failed:
        sys.exit(1)


def report(result, strict: bool) -> bool:
    """Print a check's result: notes, problems (and, with --strict, warnings) as errors; True if it failed."""
    for line in getattr(result, "notes", ()):
        click.echo(f"Note: {line}", err=True)
    for line in result.problems:
        click.echo(f"Error: {line}", err=True)
    for line in result.warnings:
        click.echo(f"{'Error' if strict else 'Warning'}: {line}", err=True)
    failed = bool(result.problems) or (strict and bool(result.warnings))
    if not failed and result.summary is not None:
        click.echo(f"ok  {result.path}: {result.summary}")
    return failed
