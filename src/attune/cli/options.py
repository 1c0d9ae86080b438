"""Options shared by several commands, and turning command-line flags into `TrackSettings`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..durations import parse_duration
from ..errors import LengthError
from ..settings import CLEAN_LEVELS, Background, Recording, TrackSettings


def _seconds(value, parse):
    """`parse(value)` (seconds), a LengthError made a usage error; None when the option is not given."""
    if value is None:
        return None
    try:
        return parse(value)
    except LengthError as exc:
        raise click.BadParameter(str(exc)) from None


def length_option(ctx, param, value):
    return _seconds(value, lambda text: parse_duration(text, what="--length"))


def interval_bells_callback(ctx, param, value):
    """`--interval-bells 10m` (or `10 minutes`, `off`) → seconds (0.0: off); None when not given."""
    from ..script.spellings import interval_seconds

    return _seconds(value, lambda text: interval_seconds(text, what="--interval-bells"))


interval_bells_option = click.option(
    "--interval-bells",
    "interval_bells_s",
    metavar="D|off",
    callback=interval_bells_callback,
    help="Ring a soft bell every D (10m, 15 minutes) on the track's clock inside long pauses, never in a pause's first or last minute; off turns a script's off.",
)


def formats_option(ctx, param, values):
    """`--format mp3,m4a` or `--format mp3 --format m4a` → ("mp3", "m4a"); a bad name is a usage error."""
    from ..formats import FORMAT_NAMES

    names = tuple(name.strip().lower() for value in values for name in value.split(",") if name.strip())
    for name in names:
        if name not in FORMAT_NAMES:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(repr(n) for n in FORMAT_NAMES)}")
    return names


def vars_option(ctx, param, values):
    out = {}
    for item in values:
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE — write --var name=Ana")
        out[key.strip()] = val
    return out


def progress_printer():
    """A progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1000, label="speaking ", file=sys.stderr, show_eta=False)
    bar.__enter__()
    weights = {"speaking": (0, 50), "encoding": (50, 1000), "re-encoding": (50, 1000)}
    state = {"pos": 0}

    def update(stage: str, fraction: float) -> None:
        lo, hi = weights.get(stage, (0, 1000))
        pos = int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0))
        bar.label = f"{stage:<11}"
        if pos != state["pos"]:  # a second encode starts the bar's encoding stretch again
            bar.update(pos - state["pos"])
            state["pos"] = pos

    return update, bar


def voices_dir_option(ctx, param, value):
    """`--voices-dir` is `$ATTUNE_VOICES_DIR` for this run (and the speech workers and batch workers it starts)."""
    import os

    if value is not None:
        os.environ["ATTUNE_VOICES_DIR"] = str(Path(value).expanduser().resolve())
    return value


def engine_option(help_text: str = "Speech engine: pyttsx3 (default), piper (`attune[piper]`), hibari or pico (`attune[voices]`)."):
    from ..settings import ENGINES

    return click.option("--engine", type=click.Choice(ENGINES), help=help_text)


voices_dir_flag = click.option(
    "--voices-dir",
    type=click.Path(file_okay=False, path_type=Path),
    callback=voices_dir_option,
    expose_value=False,
    is_eager=True,
    help="Folder of Piper voices (*.onnx with *.onnx.json), instead of $ATTUNE_VOICES_DIR or the default under your data folder.",
)

voice_options = [
    engine_option(),
    click.option(
        "--voice",
        help="female, male, es, en-GB, `en-GB female`, heart: the best installed neural voice that fits (no --engine needed). "
        "pyttsx3: voice id (gmw/en-us), language or name fragment, espeak variants as +f3, +m2. piper: joe, en_US-joe-medium or PATH.onnx.",
    ),
    click.option("--speaker", help="A multi-speaker Piper voice's speaker: a number or a name (`attune voices --engine piper`)."),
    voices_dir_flag,
    click.option("--rate", "rate_wpm", type=click.FloatRange(80, 400), help="Speaking rate in words per minute (default 140)."),
    click.option("--pitch", type=click.IntRange(0, 100), help="Voice pitch 0–100, 50 is the voice's normal pitch (pyttsx3 only: Piper has none)."),
    click.option("--var", "vars", multiple=True, callback=vars_option, metavar="KEY=VALUE", help="Fill a {placeholder}; repeatable."),
    click.option("--bells/--no-bells", default=None, help="Add (or remove) the opening and closing bells."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Speech cache folder (default ~/.cache/attune, or $ATTUNE_CACHE_DIR)."),
]


#: `--recording TAKE` (the practitioner's own reading as the voice), its clean-up and its recogniser.
recording_options = [
    click.option("--recording", metavar="TAKE", help="Speak with your own reading of the script: a wav, flac, mp3, m4a, ogg or opus take (`attune align` shows what is used)."),
    click.option("--clean", type=click.Choice(CLEAN_LEVELS), help="The take's clean-up: none, light (clicks, rumble, hum) or full (also the room tone, by DeepFilterNet3; the default)."),
    click.option("--asr-model", metavar="PATH|NAME", help="The recogniser the take is aligned with: a faster-whisper model folder or name (default tiny.en, offline)."),
]


def with_options(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def track_settings(*, bells: bool | None = None, background: str | None = None, recording: str | None = None, **values) -> TrackSettings:
    """The command line's layer of settings (it wins over a roster's and a script's).

    `--bells/--no-bells` sets both bells; a `--background` file and a `--recording` take are relative
    to the working folder."""
    return TrackSettings(
        bells_start=bells,
        bells_end=bells,
        background=Background(background, base_dir=Path.cwd()) if background is not None else None,
        recording=Recording(recording, base_dir=Path.cwd()) if recording is not None else None,
        **values,
    )
