"""The `attune` command: a thin skin over the library. Each command parses options, makes one
library call, and turns library errors into one line on stderr: `Error: FILE:LINE: what — how to fix`.

Exit codes: 0 success, 1 bad input (AttuneError), 2 bad usage, 70 a bug in Attune, 130 interrupted.
"""

from __future__ import annotations

import json
import signal
import sys
import traceback
from pathlib import Path

import click

from .durations import format_duration, parse_duration
from .errors import AttuneError, Interrupted, LengthError

EXIT_BUG = 70
EXIT_INTERRUPTED = 130


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _Unexpected(Exception):
    """Carries an exception past click that click would misreport."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


class AttuneGroup(click.Group):
    """Turns every failure into one `Error: …` line and an exit code (traceback only with --debug)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args
        try:
            code = super().main(args=args, prog_name=prog_name or "attune", complete_var=complete_var, standalone_mode=False, **extra)
        except (click.exceptions.Abort, KeyboardInterrupt, Interrupted):
            from .atomic import remove_temporaries

            remove_temporaries()
            _fail("interrupted — no partial file was left; finished outputs are intact", EXIT_INTERRUPTED)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "attune"
            _fail(f"{exc.format_message().rstrip('.')} — see `{command} --help`", 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except AttuneError as exc:
            if debug:
                traceback.print_exc()
            _fail(str(exc), exc.exit_code)
        except Exception as exc:
            if debug:
                traceback.print_exc()
            if isinstance(exc, _Unexpected):
                exc = exc.original
            _fail(f"internal error ({type(exc).__name__}: {exc}) — this is a bug in Attune; please report it with the output of the same command run with --debug", EXIT_BUG)
        sys.exit(code or 0)

    def invoke(self, ctx):
        # Caught here, before click's own handler (which prints a blank line) sees it.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted("interrupted — no partial file was left; finished outputs are intact") from None
        except EOFError as exc:
            # click would report this as "Aborted!" (to click it means end of input at a prompt,
            # and Attune never prompts): it is a bug, and is reported as one.
            raise _Unexpected(exc) from exc


def _length(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_duration(value, what="--length")
    except LengthError as exc:
        raise click.BadParameter(str(exc)) from None


def _vars(ctx, param, values):
    out = {}
    for item in values:
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE — write --var name=Ana")
        out[key.strip()] = val
    return out


def _progress_printer():
    """A progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1000, label="speaking ", file=sys.stderr, show_eta=False)
    bar.__enter__()
    weights = {"speaking": (0, 50), "encoding": (50, 900), "re-encoding": (50, 900), "measuring": (900, 1000)}
    state = {"pos": 0}

    def update(stage: str, fraction: float) -> None:
        lo, hi = weights.get(stage, (0, 1000))
        pos = int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0))
        bar.label = f"{stage:<11}"
        if pos != state["pos"]:  # a second encode starts the bar's encoding stretch again
            bar.update(pos - state["pos"])
            state["pos"] = pos

    return update, bar


voice_options = [
    click.option("--voice", help="Voice id (gmw/en-us), language (en-us, es) or name fragment; espeak variants as +f3, +m2."),
    click.option("--rate", "rate_wpm", type=click.FloatRange(80, 400), help="Speaking rate in words per minute (default 140)."),
    click.option("--pitch", type=click.IntRange(0, 100), help="Voice pitch 0–100, 50 is the voice's normal pitch (espeak)."),
    click.option("--var", "vars", multiple=True, callback=_vars, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable."),
    click.option("--bells/--no-bells", default=None, help="Add (or remove) the opening and closing bells."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder (default ~/.cache/attune, or $ATTUNE_CACHE_DIR)."),
]


def with_options(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@click.group(name="attune", cls=AttuneGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback of any error.")
@click.version_option(package_name="attune", prog_name="attune")
def cli(debug: bool) -> None:
    """Attune turns meditation scripts into finished practice tracks, offline.

    \b
    Example:
      attune render scripts/arriving.yaml --length 10m --background drone
    """


@cli.command()
@click.argument("script")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the track (default output/<script-stem>.mp3).")
@click.option("--length", callback=_length, help="Track length: 90s, 10m, 1m30s, 1h (default: the script's own).")
@with_options(voice_options)
@click.option("--background", help="none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file.")
@click.option("--background-db", type=float, help="Background level relative to the voice, in dB (default -22).")
@click.option("--format", "fmt", type=click.Choice(["mp3", "wav"]), default="mp3", show_default=True)
@click.option("--bitrate", default="128k", show_default=True, help="MP3 bitrate.")
@click.option("--loudness", "loudness_lufs", type=float, default=-16.0, show_default=True, help="Integrated loudness target in LUFS.")
@click.option("--captions", is_flag=True, help="Also write WebVTT captions next to the track.")
@click.option("--cover", type=click.Path(dir_okay=False, path_type=Path), help="Cover art (PNG or JPEG) for the MP3.")
def render(script, output, length, voice, rate_wpm, pitch, vars, bells, cache_dir, background, background_db, fmt, bitrate, loudness_lufs, captions, cover):
    """Render SCRIPT to an MP3 (or WAV) of exactly the length asked for.

    \b
    Example:
      attune render scripts/loving-kindness.yaml --length 15m --voice en-us+f3 --var name=Ana
    """
    from .render import RenderRequest, render as do_render

    request = RenderRequest(Path(script), output, length, voice, rate_wpm, pitch, background, background_db, vars, fmt, bitrate, loudness_lufs, bells, captions, cover)
    update, bar = _progress_printer()
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
@click.option("--length", callback=_length, help="Fit to this length: 90s, 10m, 1m30s, 1h.")
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@with_options(voice_options)
def plan(script, length, as_json, voice, rate_wpm, pitch, vars, bells, cache_dir):
    """Show the timeline of SCRIPT without writing audio (speech is synthesised into the cache).

    \b
    Example:
      attune plan scripts/arriving.yaml --length 5m --json
    """
    from .render import RenderRequest, plan_script

    result = plan_script(RenderRequest(Path(script), length_s=length, voice=voice, rate_wpm=rate_wpm, pitch=pitch, vars=vars, bells=bells), cache_dir=cache_dir)
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
    line = (f"{result.output_path}  {format_duration(result.duration_s)}  {voice}  track {_level(result.track_lufs, 'LUFS')}  "
            f"peak {_level(result.true_peak_dbtp, 'dBTP')}  ({speech})")
    if result.limiter_reduction_db > 0.05:
        line += f"\n  limiter: up to {result.limiter_reduction_db:.1f} dB of gain reduction, on {format_duration(result.limited_s)} of the track"
    return line


def _level(value: float, unit: str) -> str:
    return f"{value:.1f} {unit}" if value > float("-inf") else f"-inf {unit} (silent)"


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m):3d}:{s:06.3f}"


@cli.command()
@click.argument("scripts", nargs=-1, required=True)
@click.option("--var", "vars", multiple=True, callback=_vars, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable.")
def check(scripts, vars):
    """Validate SCRIPTS without rendering them.

    \b
    Example:
      attune check scripts/*.yaml scripts/*.md
    """
    from .check import check_script

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
    from .voices import filter_voices
    from .speech import Pyttsx3Synthesizer

    synth = Pyttsx3Synthesizer()
    try:
        found = filter_voices(synth.voices(), language)
        variants = synth.variants()
    finally:
        synth.close()
    if not found:
        raise AttuneError(f"no voice speaks {language!r}", "run `attune voices` without --language to see them all")
    rows = [(v.id, v.name, ",".join(v.languages), v.gender or "-") for v in found]
    widths = [max(len(r[i]) for r in rows + [("id", "name", "language", "gender")]) for i in range(3)]
    for row in [("id", "name", "language", "gender")] + rows:
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
    from .doctor import run_doctor

    ok = run_doctor(click.echo)
    if not ok:
        sys.exit(1)


@cli.command()
@click.argument("roster")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the clients' tracks, pages and feeds.")
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
@click.option("--base-url", help="Public URL of the output folder, for the podcast feeds' enclosures.")
@click.option("--force", is_flag=True, help="Render every track again, even when its inputs are unchanged.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder.")
def batch(roster, out_dir, jobs, base_url, force, cache_dir):
    """Render every client's tracks in ROSTER, with a manifest, listening pages and private feeds.

    \b
    Example:
      attune batch clients.yaml -o deliver/ --base-url https://example.org/practice/
    """
    from .deliver import format_summary, run_batch

    bar = click.progressbar(length=1, label="rendering", file=sys.stderr) if sys.stderr.isatty() else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.length = total
            bar.update(done - bar.pos)

    report = run_batch(Path(roster), out_dir, jobs=jobs, base_url=base_url, force=force, cache_dir=cache_dir, progress=progress)
    if bar is not None:
        bar.render_finish()
    click.echo(format_summary(report))
    if report.failures:
        sys.exit(1)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    """The console script: SIGTERM stops a run the way Ctrl-C does. Ctrl-C is handled even when the
    shell started Attune with SIGINT ignored (as it does for background jobs and under nohup)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    cli.main(prog_name="attune")
