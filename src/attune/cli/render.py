"""`attune render` and `attune plan`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..durations import format_duration
from ..formats import FORMAT_NAMES
from .app import cli
from .options import formats_option, interval_bells_option, length_option, progress_printer, recording_options, track_settings, voice_options, with_options


@cli.command()
@click.argument("script")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the track; its suffix picks the format (default output/<script-stem>.mp3).",
)
@click.option("--length", callback=length_option, help="Track length: 90s, 10m, 1m30s, 1h (default: the script's own).")
@with_options(voice_options)
@with_options(recording_options)
@click.option("--background", help="none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file.")
@click.option("--background-db", type=float, help="Background level relative to the voice, in dB (default -22).")
@click.option(
    "--format",
    "formats",
    multiple=True,
    callback=formats_option,
    metavar="FORMAT[,FORMAT…]",
    help=f"{', '.join(FORMAT_NAMES)}; several, comma-separated or repeated, from one render (default: -o's suffix, else mp3).",
)
@click.option("--bitrate", help="Bitrate of the lossy formats (default: mp3 and m4a/m4b 128k, opus 64k).")
@click.option(
    "--loudness",
    "loudness_lufs",
    type=float,
    default=-16.0,
    show_default=True,
    help="Loudness of the voice in LUFS (BS.1770 integrated, over the speech alone); beds and bells follow it.",
)
@click.option("--captions", is_flag=True, help="Also write WebVTT captions next to the track.")
@click.option("--cover", type=click.Path(dir_okay=False, path_type=Path), help="Cover art (PNG or JPEG) for the track.")
@click.option("--split", type=click.Choice(["sections"]), help="Also write each section as a file of its own, with an .m3u8 playlist.")
@click.option(
    "--section",
    "sections",
    multiple=True,
    metavar="NAME",
    help="Render only this section (repeatable), pauses at their minimum, to output/<stem>-<section>.mp3 unless -o.",
)
@interval_bells_option
@click.option("--bell-chapters", is_flag=True, help="Start a chapter at each interval bell (named after the section and the bell's time, `Sitting (15:00)`).")
@click.option("--strict", is_flag=True, help="Make a voice that does not speak the script's `language:` an error, not a warning.")
def render(
    script, output, length, engine, voice, speaker, rate_wpm, pitch, vars, bells, cache_dir, background, background_db, formats, bitrate, loudness_lufs, captions,
    cover, split, sections, interval_bells_s, bell_chapters, strict, recording, clean, asr_model,
):  # fmt: skip
    """Render SCRIPT to a track of exactly the length asked for: MP3, M4A, M4B, Opus, FLAC or WAV.

    SCRIPT is a script file or the name of a built-in practice (`attune library`).

    \b
    Examples:
      attune render loving-kindness --length 15m --voice en-us+f3 --var name=Ana
      attune render my-course.yaml -o course.m4b --split sections
      attune render arriving --format mp3,opus,flac -o output/arriving.mp3
      attune render my-practice.yaml --section "Body scan"
      attune render arriving --engine piper --voice joe --length 5m
      attune render my-practice.yaml --voice female      # the best installed neural voice
      attune render spanish.yaml --voice es --strict
      attune render my-practice.yaml --recording my-take.m4a --length 20m
    """
    from ..render import render as do_render
    from ..request import RenderRequest

    if sections and length is not None:
        raise click.UsageError("--section renders the sections with their pauses at the minimum: drop --length")
    if sections and split:
        raise click.UsageError("--section and --split cannot be used together: render the sections one at a time")

    settings = track_settings(length_s=length, engine=engine, voice=voice, speaker=speaker, rate_wpm=rate_wpm, pitch=pitch, vars=vars, bells=bells, background=background,
                              background_db=background_db, formats=formats or None, bitrate=bitrate, loudness_lufs=loudness_lufs,
                              interval_bells_s=interval_bells_s,
                              recording=recording, clean=clean, asr_model=asr_model)  # fmt: skip
    request = RenderRequest(
        Path(script), output, settings, captions=captions, cover=cover, split_sections=split == "sections", sections=tuple(sections), bell_chapters=bell_chapters
    )
    update, bar = progress_printer()
    try:
        result = do_render(request, cache_dir=cache_dir, progress=update, strict=strict)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for note in result.notes:
        click.echo(f"Note: {note}", err=True)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(render_summary(result))


@cli.command()
@click.argument("script")
@click.option("--length", callback=length_option, help="Fit to this length: 90s, 10m, 1m30s, 1h.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@with_options(voice_options)
@interval_bells_option
@with_options(recording_options)
@click.option("--strict", is_flag=True, help="Make a voice that does not speak the script's `language:` an error, not a warning.")
def plan(script, length, as_json, engine, voice, speaker, rate_wpm, pitch, vars, bells, cache_dir, interval_bells_s, recording, clean, asr_model, strict):
    """Show the timeline of SCRIPT without writing audio (speech is synthesised into the cache).

    \b
    Example:
      attune plan arriving --length 5m --json
    """
    from ..render import plan_script
    from ..request import RenderRequest

    settings = track_settings(
        length_s=length, engine=engine, voice=voice, speaker=speaker, rate_wpm=rate_wpm, pitch=pitch, vars=vars, bells=bells, interval_bells_s=interval_bells_s,
        recording=recording, clean=clean, asr_model=asr_model,
    )
    request = RenderRequest(Path(script), settings=settings)
    result = plan_script(request, cache_dir=cache_dir, strict=strict)
    from ..library import resolve_script

    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for warning in result.doubled_bell_warnings(str(resolve_script(request.script_path))):
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{script}: {format_duration(result.duration_s)} (fits {result.fits})")
    if result.dropped_sections:
        click.echo(f"dropped optional sections: {', '.join(result.dropped_sections)}")
    for e in result.events:
        text = e.text if len(e.text) <= 60 else e.text[:59] + "…"
        kind = "i-bell" if e.kind == "interval_bell" else e.kind  # the column is six wide
        click.echo(f"{_clock(e.start_s)}  {kind:<6} {e.duration_s:8.3f}s  {e.section[:18]:<18} {text}".rstrip())


def render_summary(result) -> str:
    """`output/x.mp3  5m  voice -16.0 LUFS  track -18.4 LUFS  peak -1.3 dBTP  (3 sentences synthesised)`, one
    line per file written, every figure measured on the file as written; a line when the limiter acted."""
    speech = f"{result.synthesized} sentence{'' if result.synthesized == 1 else 's'} synthesised" if result.synthesized else "speech from cache"
    files = result.outputs or (result,)
    lines = [_file_line(files[0], result.duration_s) + f"  ({speech})"]
    if result.limiter_reduction_db > 0.05:
        lines.append(f"  limiter: up to {result.limiter_reduction_db:.1f} dB of gain reduction, on {format_duration(result.limited_s)} of the track")
    lines += [_file_line(file, result.duration_s) for file in files[1:]]
    lines += [_file_line(section, section.duration_s) for section in result.sections]
    lines += [f"{playlist}  playlist" for playlist in result.playlists]
    if result.captions_path:
        lines.append(f"{result.captions_path}  captions")
    return "\n".join(lines)


def _file_line(file, duration_s: float) -> str:
    path = getattr(file, "path", None) or file.output_path
    voice = f"voice {file.voice_lufs:.1f} LUFS" if file.voice_lufs is not None else "no voice"
    return f"{path}  {format_duration(duration_s)}  {voice}  track {_level(file.track_lufs, 'LUFS')}  peak {_level(file.true_peak_dbtp, 'dBTP')}"


def _level(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if value > float("-inf") else f"-inf {unit} (silent)"


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m):3d}:{s:06.3f}"
