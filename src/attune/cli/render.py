"""`attune render` and `attune plan`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..durations import format_duration
from .app import cli
from .options import length_option, progress_printer, track_settings, voice_options, with_options


@cli.command()
@click.argument("script")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the track (default output/<script-stem>.mp3).")
@click.option("--length", callback=length_option, help="Track length: 90s, 10m, 1m30s, 1h (default: the script's own).")
@with_options(voice_options)
@click.option("--background", help="none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file.")
@click.option("--background-db", type=float, help="Background level relative to the voice, in dB (default -22).")
@click.option("--format", "fmt", type=click.Choice(["mp3", "wav"]), default="mp3", show_default=True)
@click.option("--bitrate", default="128k", show_default=True, help="MP3 bitrate.")
@click.option(
    "--loudness",
    "loudness_lufs",
    type=float,
    default=-16.0,
    show_default=True,
    help="Loudness of the voice in LUFS (BS.1770 integrated, over the speech alone); beds and bells follow it.",
)
@click.option("--captions", is_flag=True, help="Also write WebVTT captions next to the track.")
@click.option("--cover", type=click.Path(dir_okay=False, path_type=Path), help="Cover art (PNG or JPEG) for the MP3.")
def render(script, output, length, voice, rate_wpm, pitch, vars, bells, cache_dir, background, background_db, fmt, bitrate, loudness_lufs, captions, cover):
    """Render SCRIPT to an MP3 (or WAV) of exactly the length asked for.

    SCRIPT is a script file or the name of a built-in practice (`attune library`).

    \b
    Example:
      attune render loving-kindness --length 15m --voice en-us+f3 --var name=Ana
    """
    from ..render import render as do_render
    from ..request import RenderRequest

    settings = track_settings(
        length_s=length,
        voice=voice,
        rate_wpm=rate_wpm,
        pitch=pitch,
        vars=vars,
        bells=bells,
        background=background,
        background_db=background_db,
        formats=(fmt,),
        bitrate=bitrate,
        loudness_lufs=loudness_lufs,
    )
    request = RenderRequest(Path(script), output, settings, captions=captions, cover=cover)
    update, bar = progress_printer()
    try:
        result = do_render(request, cache_dir=cache_dir, progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(render_summary(result))
    if result.captions_path:
        click.echo(f"{result.captions_path}  captions")


@cli.command()
@click.argument("script")
@click.option("--length", callback=length_option, help="Fit to this length: 90s, 10m, 1m30s, 1h.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@with_options(voice_options)
def plan(script, length, as_json, voice, rate_wpm, pitch, vars, bells, cache_dir):
    """Show the timeline of SCRIPT without writing audio (speech is synthesised into the cache).

    \b
    Example:
      attune plan arriving --length 5m --json
    """
    from ..render import plan_script
    from ..request import RenderRequest

    settings = track_settings(length_s=length, voice=voice, rate_wpm=rate_wpm, pitch=pitch, vars=vars, bells=bells)
    result = plan_script(RenderRequest(Path(script), settings=settings), cache_dir=cache_dir)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    fits = f"{format_duration(result.min_s)} to " + (format_duration(result.max_s) if result.max_s is not None else "any length")
    click.echo(f"{script}: {format_duration(result.duration_s)} (fits {fits})")
    if result.dropped_sections:
        click.echo(f"dropped optional sections: {', '.join(result.dropped_sections)}")
    for e in result.events:
        text = e.text if len(e.text) <= 60 else e.text[:59] + "…"
        click.echo(f"{_clock(e.start_s)}  {e.kind:<6} {e.duration_s:8.3f}s  {e.section[:18]:<18} {text}".rstrip())


def render_summary(result) -> str:
    """`output/x.mp3  5m  voice -16.0 LUFS  track -18.4 LUFS  peak -1.3 dBTP  (3 sentences synthesised)`:
    every figure measured on the file as written; a second line when the limiter acted."""
    speech = f"{result.synthesized} sentence{'' if result.synthesized == 1 else 's'} synthesised" if result.synthesized else "speech from cache"
    voice = f"voice {result.voice_lufs:.1f} LUFS" if result.voice_lufs is not None else "no voice"
    line = (
        f"{result.output_path}  {format_duration(result.duration_s)}  {voice}  track {_level(result.track_lufs, 'LUFS')}  "
        f"peak {_level(result.true_peak_dbtp, 'dBTP')}  ({speech})"
    )
    if result.limiter_reduction_db > 0.05:
        line += f"\n  limiter: up to {result.limiter_reduction_db:.1f} dB of gain reduction, on {format_duration(result.limited_s)} of the track"
    return line


def _level(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if value > float("-inf") else f"-inf {unit} (silent)"


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m):3d}:{s:06.3f}"
