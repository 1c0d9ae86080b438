"""`attune check`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AttuneError
from .app import cli
from .options import vars_option


@cli.command()
@click.argument("scripts", nargs=-1, required=True)
@click.option("--var", "vars", multiple=True, callback=vars_option, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable.")
def check(scripts, vars):
    """Validate SCRIPTS without rendering them.

    \b
    Example:
      attune check scripts/*.yaml scripts/*.md
    """
    from ..check import check_script

    failed = 0
    for path in scripts:
        try:
            summary = check_script(Path(path), vars)
        except AttuneError as exc:
            failed += 1
            click.echo(f"Error: {exc}", err=True)
        else:
            click.echo(f"ok  {path}: {summary}")
    if failed:
        sys.exit(1)
