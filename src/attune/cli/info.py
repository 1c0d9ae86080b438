"""`attune voices`, `attune doctor` and `attune library`: what this machine and Attune have."""

from __future__ import annotations

import sys

import click

from ..errors import AttuneError
from .app import cli
from .options import engine_option, voices_dir_flag


@cli.command()
@engine_option("Whose voices: pyttsx3 (default) or piper.")
@click.option("--language", help="Only voices for this language code (en matches en-us, en-gb…).")
@voices_dir_flag
def voices(engine, language):
    """List an engine's voices. pyttsx3: id, name, language, and every espeak variant.
    piper: name, language, quality, sample rate, speakers, and where each voice lives.

    \b
    Pass an id, a language code or a name fragment to --voice; on espeak add a
    variant for another timbre: en-us+f3, en-us+m2, +whisper, +croak. For Piper
    give a short name (joe), a full name (en_US-joe-medium) or PATH.onnx.
    Examples:
      attune voices --language en
      attune voices --engine piper
    """
    from ..speech.listing import voice_lines

    for line in voice_lines(engine or "pyttsx3", language):
        click.echo(line)


@cli.command()
@voices_dir_flag
def doctor():
    """Say which speech engines, voices and ffmpeg Attune uses, and what to do about anything missing.

    \b
    Example:
      attune doctor
    """
    from ..checks.doctor import run_doctor

    ok = run_doctor(click.echo)
    if not ok:
        sys.exit(1)


@cli.command()
def library():
    """List the built-in practices (name, title, the lengths each fits) and the bundled sounds
    (name and length), to use as `--background NAME`.

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
    sounds = sound_rows()
    if sounds:
        click.echo("\nbundled sounds (--background NAME, or background: NAME in a script):")
        width = max(len(name) for name, _ in sounds)
        for name, length in sounds:
            click.echo(f"{name.ljust(width)}  {length}")


def sound_rows() -> list[tuple[str, str]]:
    """(file name, length) of each bundled sound, the length read from the file's header (mutagen)."""
    import mutagen

    from ..durations import format_duration
    from ..library import SOUNDS_DIR, bundled_sounds

    rows = []
    for name in bundled_sounds():
        try:
            info = mutagen.File(SOUNDS_DIR / name)
            length = format_duration(round(info.info.length, 1)) if info is not None else "length unknown"
        except (OSError, mutagen.MutagenError):
            length = "length unknown"
        rows.append((name, length))
    return rows


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
