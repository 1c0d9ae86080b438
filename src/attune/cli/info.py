"""`attune voices`, `attune doctor` and `attune library`: what this machine and Attune have."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AttuneError
from .app import cli
from .options import engine_option, voices_dir_flag


@cli.group(invoke_without_command=True)
@engine_option("Whose voices: pyttsx3 (default), piper, hibari or pico.")
@click.option("--language", help="Only voices for this language code (en matches en-us, en-gb…).")
@click.option("--all", "show_all", is_flag=True, help="Every voice of every installed engine, and what each extra would add.")
@click.option("--sample", "sample_text", is_flag=False, flag_value="", default=None, metavar="[TEXT]",
              help="Write one short clip per installed voice (or per --voice match), levelled alike, and list them.")  # fmt: skip
@click.option("--voice", help="With --sample: only the voices that fit (female, male, es, en-GB, heart).")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("output/voices"), show_default=True,
              help="With --sample: the folder the clips go to.")  # fmt: skip
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder (with --sample).")
@voices_dir_flag
@click.pass_context
def voices(ctx, engine, language, show_all, sample_text, voice, output_dir, cache_dir):
    """List voices, audition them, or add a Piper voice.

    pyttsx3: id, name, language, and every espeak variant. piper: name, language,
    quality, sample rate, speakers, where. hibari, pico: name, language, gender,
    sample rate, where (hibari's other voices as "needs download").

    \b
    Pass a teacher's words to render --voice (female, male, es, en-GB) and the best
    installed neural voice that fits speaks; or an id, a language code or a name
    fragment with --engine. Examples:
      attune voices --all
      attune voices --sample --voice female
      attune voices --sample "Welcome to this practice." -o auditions/
      attune voices --engine pico
      attune voices add en_GB-alba-medium
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..speech.listing import all_voice_lines, voice_lines

    if sample_text is not None:
        from ..audition import sample_voices

        def show(sample) -> None:
            lufs = f"{sample.voice_lufs:.1f} LUFS" if sample.voice_lufs is not None else "-"
            click.echo(f"{sample.path}  {sample.voice.engine} {sample.voice.name} ({sample.voice.language})  {sample.duration_s:.1f}s  voice {lufs}")

        samples = sample_voices(output_dir, sample_text or None, voice, cache_dir=cache_dir, progress=show)
        click.echo(f"{len(samples)} clips in {output_dir}, each levelled to the same voice loudness")
        return
    if voice is not None:
        raise click.UsageError("--voice goes with --sample (to list voices, use --all or --engine)")
    lines = all_voice_lines(language) if show_all else voice_lines(engine or "pyttsx3", language)
    for line in lines:
        click.echo(line)


@voices.command("add")
@click.argument("name")
@click.option("--from", "from_url", metavar="URL", help="A mirror of Piper's catalogue (a folder with voices.json), or the URL of one .onnx.")
@voices_dir_flag
def voices_add(name, from_url):
    """Fetch the Piper voice NAME (its .onnx and .onnx.json, checked) into the voices folder.

    NAME is a name from Piper's catalogue (rhasspy/piper-voices): en_GB-alba-medium,
    or a short one (alba; the medium quality is preferred). Nothing is kept unless
    both files arrive whole and match the catalogue.

    \b
    Examples:
      attune voices add en_GB-alba-medium
      attune voices add es_ES-davefx-medium --voices-dir ~/voices
      attune voices add mine --from https://example.org/voices/mine.onnx
    """
    from ..speech.engines.piper_download import add_voice

    voice = add_voice(name, from_url)
    size_mb = (voice.model_path.stat().st_size + voice.config_path.stat().st_size) / 1e6
    click.echo(f"added {voice.name} ({voice.language}, {voice.quality}, {voice.sample_rate_hz} Hz) to {voice.model_path.parent}: {size_mb:.1f} MB, checked")
    click.echo(f"use it with: --engine piper --voice {voice.short_name}")


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
