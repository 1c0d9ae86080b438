"""`attune voices`, `attune doctor` and `attune library`: what this machine and Attune have."""

from __future__ import annotations

import sys

import click

from ..errors import AttuneError
from .app import cli


@cli.command()
@click.option("--language", help="Only voices for this language code (en matches en-us, en-gb…).")
def voices(language):
    """List the speech engine's voices: id, name, language and gender.

    \b
    Pass an id, a language code or a name fragment to --voice; on espeak add a
    variant for another timbre: en-us+f3 (female), en-us+m2 (male), +whisper, +croak.
    Example:
      attune voices --language en
    """
    from ..speech.engines.pyttsx3 import Pyttsx3Synthesizer
    from ..speech.voices import filter_voices

    synth = Pyttsx3Synthesizer()
    try:
        found = filter_voices(synth.voices(), language)
        variants = synth.variants()
    finally:
        synth.close()
    if not found:
        raise AttuneError(f"no voice speaks {language!r}", "run `attune voices` without --language to see them all")
    rows = [(v.id, v.name, ",".join(v.languages), v.gender or "-") for v in found]
    widths = [max(len(r[i]) for r in [*rows, ("id", "name", "language", "gender")]) for i in range(3)]
    for row in [("id", "name", "language", "gender"), *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3])
    if variants:
        click.echo(f"\nespeak variants (append to any voice, e.g. en-us+f3): {' '.join('+' + x for x in variants[:40])}…")


@cli.command()
def doctor():
    """Say which speech engine, voices and ffmpeg Attune uses, and what to do about anything missing.

    \b
    Example:
      attune doctor
    """
    from ..doctor import run_doctor

    ok = run_doctor(click.echo)
    if not ok:
        sys.exit(1)


@cli.command()
def library():
    """List the built-in practices: name, title, format and the lengths each fits.

    Render one by name from any folder; a local file of the same name wins.
    The shortest length is estimated from the words at 140 words per minute.

    \b
    Example:
      attune library
      attune render loving-kindness --length 10m
    """
    from ..library import PRACTICES_DIR, practices

    rows = [practice_row(path) for path in practices()]
    if not rows:
        raise AttuneError("no built-in practices found", "reinstall Attune: pip install --force-reinstall attune")
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        click.echo(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    click.echo(f"\nfiles: {PRACTICES_DIR} (copy one to adapt it)")


def practice_row(path) -> tuple[str, str, str]:
    """(name, title, lengths) of a built-in practice."""
    from ..durations import format_duration
    from ..plan import estimated_plan
    from ..script import load_script
    from ..settings import DEFAULT_RATE_WPM

    script = load_script(path)
    plan = estimated_plan(script, script.settings.rate_wpm or DEFAULT_RATE_WPM)
    fits = f"fits {plan.fits} (estimated)"
    default = f"; {format_duration(script.settings.length_s)} by default" if script.settings.length_s else ""
    return path.stem, script.title, fits + default
