"""`attune new` and `attune import`: scripts to start from, and other tools' scripts made Attune's."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import OutputError, ScriptError
from .app import cli
from .options import length_option


def _write_new_file(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path` whole (a temporary file, renamed), never over a file unless `force`."""
    from ..system.atomic import check_writable, write_text

    if path.exists() and not force:
        raise OutputError(f"{path} already exists", "choose another name, or pass --force to replace it", path=str(path))
    check_writable(path)
    write_text(path, text)


def _starter_choices():
    from ..script.starter import PRACTICES

    return click.Choice(PRACTICES)


@cli.command()
@click.argument("name")
@click.option("--practice", type=_starter_choices(), default="breath", show_default=True, help="What kind of practice to start from.")
@click.option("--length", callback=length_option, help="The track's length (default 10m): 5m, 10m, 20m.")
@click.option("--force", is_flag=True, help="Replace NAME if it exists.")
def new(name, practice, length, force):
    """Write a commented script to edit, NAME.yaml: sections, pauses, a bell, a {name}
    placeholder, and every option in comments. It passes `attune check --strict` as written.

    \b
    Examples:
      attune new evening --practice loving-kindness --length 10m
      attune new sit.yaml --practice open-awareness --length 30m
    """
    from ..durations import format_duration
    from ..errors import LengthError
    from ..plan import estimated_plan
    from ..script import parse_script_text
    from ..script.starter import DEFAULT_LENGTH_S, starter_text
    from ..settings import DEFAULT_RATE_WPM

    path = Path(name)
    if path.suffix.lower() in ("", ".yaml", ".yml"):
        path = path if path.suffix else path.with_suffix(".yaml")
    else:
        raise click.BadParameter(f"{name!r}: a new script is YAML, NAME or NAME.yaml", param_hint="NAME")
    length_s = length if length is not None else DEFAULT_LENGTH_S
    text = starter_text(practice, length_s)
    script = parse_script_text(text, path=str(path), fmt="yaml")
    try:
        estimated_plan(script, DEFAULT_RATE_WPM, length_s)
    except LengthError as exc:
        raise LengthError(f"the {practice} starter cannot be {format_duration(length_s)} long", exc.hint, path=str(path)) from None
    _write_new_file(path, text, force)
    click.echo(f"{path}  {script.title}, {format_duration(length_s)}: edit it, then `attune check {path} --strict` and `attune render {path}`")


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from", "fmt", type=click.Choice(["apg", "meditation-generator"]), required=True, help="The tool the script was written for.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the Attune script (default FILE-attune.txt beside it).")
@click.option("--force", is_flag=True, help="Replace the output if it exists.")
def import_(file, fmt, output, force):
    """Turn another tool's script into an Attune script you can edit.

    \b
    apg                   audio_program_generator: lines of `phrase;seconds`
    meditation-generator  Meditation-Generator: text with [pause:N] markers
    Problems are reported at their line of FILE.

    \b
    Examples:
      attune import program.txt --from apg
      attune import sample_meditation.txt --from meditation-generator -o calm.txt
    """
    from ..script import parse_script_text
    from ..script.imports import import_script
    from ..script.load import MAX_SCRIPT_BYTES

    if not file.is_file():
        raise ScriptError("no such file", "check the path and the file name", path=str(file))
    data = file.read_bytes()
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"file is {len(data):,} bytes, over the {MAX_SCRIPT_BYTES:,}-byte limit", "split it into shorter scripts", path=str(file))
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScriptError("not UTF-8 text", "save the file as UTF-8", path=str(file)) from None
    text = import_script(file, fmt, source)
    out = output or file.with_name(f"{file.stem}-attune.txt")
    script = parse_script_text(text, path=str(out), fmt="txt")  # what was written reads back as it should
    _write_new_file(out, text, force)
    pauses = sum(1 for section in script.sections for item in section.items if type(item).__name__ == "Pause")
    click.echo(f"{out}  {script.title}: imported from {file} ({pauses} pause{'s' if pauses != 1 else ''}); edit it, then `attune check {out}`")
