"""`attune align`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import cli
from .options import vars_option


@cli.command()
@click.argument("script")
@click.argument("take", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help='Print [{"line", "text", "start_s", "end_s", "score"}].')
@click.option("--var", "vars", multiple=True, callback=vars_option, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable.")
@click.option("--asr-model", metavar="PATH|NAME", help="The recogniser: a faster-whisper model folder or name (default tiny.en, offline).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Cache folder (default ~/.cache/attune, or $ATTUNE_CACHE_DIR).")
def align(script, take, as_json, vars, asr_model, cache_dir):
    """Show where each sentence of SCRIPT is in TAKE, your own reading of it: its script line, its
    start and end in the take (seconds) and how well the recogniser's words matched (0.5–1).

    A sentence the take does not have is an error naming its line; speech the script does not
    have (a false start, an aside) is a warning with its time. The last complete reading of a
    sentence is the one used. A render with --recording TAKE uses this alignment.

    \b
    Example:
      attune align my-practice.yaml my-take.m4a
    """
    from ..align import align_script, alignment_json

    alignment = align_script(Path(script), take, vars=vars, asr_model=asr_model, cache_dir=cache_dir)
    for warning in alignment.warnings:
        click.echo(f"Warning: {warning}", err=True)
    rows = alignment_json(alignment)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        text = row["text"] if len(row["text"]) <= 60 else row["text"][:59] + "…"
        click.echo(f"{row['line']:>5}  {row['start_s']:8.2f}  {row['end_s']:8.2f}  {row['score']:.2f}  {text}")
