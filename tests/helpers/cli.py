"""The `attune` command run in-process, as a user types it: `invoke("render", path, "--length", "5m")`."""

from __future__ import annotations

from click.testing import CliRunner, Result

from attune.cli import cli


def invoke(*args) -> Result:
    """`attune ARGS…` through click's test runner (each argument as its string), prog name `attune`."""
    return CliRunner().invoke(cli, [str(a) for a in args], prog_name="attune")
