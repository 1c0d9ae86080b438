"""What a track is rendered with: one frozen `TrackSettings`, validated in one place, merged in one place.

Every source of settings produces one: a script's own keys, a roster's `defaults:` and each of its
tracks, a `RenderRequest` from the library, and the command-line flags. `None` means "not set here",
and layers are merged with `over`, highest first:

    flag > roster track > roster defaults > script > Attune's defaults (`resolved()`)

The ranges below are the only ones: a roster's `rate: 50` fails where it is written, exactly as a
script's does. Light to import (no numpy): a batch's parent builds and merges settings for every track.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .durations import MAX_DURATION_S, format_duration
from .errors import SettingsError, VoiceError
from .formats import FORMAT_NAMES, parse_formats

#: The speech engines; the first is the default.
ENGINES = ("pyttsx3", "piper", "hibari", "pico")
DEFAULT_ENGINE = ENGINES[0]
DEFAULT_RATE_WPM = 140.0
DEFAULT_LOUDNESS_LUFS = -16.0
#: The engine that speaks with a practitioner's take (`recording:`), chosen by the take, not by `engine:`.
RECORDING_ENGINE = "recording"
#: The take's clean-up levels (`--clean`), as `attune.speech.recording.clean` defines them.
CLEAN_LEVELS = ("none", "light", "full")

RATE_WPM_RANGE = (80.0, 400.0)
PITCH_RANGE = (0, 100)
#: A bed's level relative to the voice.
BACKGROUND_DB_RANGE = (-60.0, 0.0)
#: The voice loudness targets Attune accepts. Above -14 LUFS speech would need heavy limiting to keep
#: its peaks under the ceiling (the limiter catches peaks; it is not a normaliser).
LOUDNESS_RANGE_LUFS = (-40.0, -14.0)
#: Any bitrate a format may take; each format checks its own range (`attune.formats`).
BITRATE_RANGE_KBPS = (6, 512)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Background:
    """A background as written: a kind (`drone`), a sound file name, or a mapping, with the folder its
    relative file names resolve against and where it was written (for error messages).

    `attune.audio.background.parse_background` turns it into a validated bed.
    """

    value: Any
    base_dir: Path = field(default_factory=Path.cwd)
    path: str | None = None
    line: int | None = None

    def fingerprint_value(self) -> Any:
        """The value with relative file names made absolute (the folder decides which file is meant)."""
        return {"value": self.value, "base_dir": str(Path(self.base_dir).resolve())}


@dataclass(frozen=True)
class Recording:
    """A take as written (`--recording TAKE`, `recording:`): the practitioner's reading, which becomes
    the voice (the `recording` engine). Relative paths resolve against `base_dir`; `path` and `line`
    say where it was written."""

    value: str
    base_dir: Path = field(default_factory=Path.cwd)
    path: str | None = None
    line: int | None = None

    @property
    def file(self) -> Path:
        return (Path(self.base_dir) / Path(self.value).expanduser()).resolve()

    def fingerprint_value(self) -> str:
        return str(self.file)


@dataclass(frozen=True)
class TrackSettings:
    """How one track is rendered. Every field is optional (None: not set at this layer)."""

    engine: str | None = None
    voice: str | None = None
    #: A multi-speaker Piper voice's speaker: a number or a name.
    speaker: str | None = None
    rate_wpm: float | None = None
    pitch: int | None = None
    background: Background | None = None
    background_db: float | None = None
    bells_start: bool | None = None
    bells_end: bool | None = None
    #: Interval bells in long pauses: seconds between them on the track's clock (0: off).
    interval_bells_s: float | None = None
    #: Placeholder values; merged key by key (a higher layer's `name` wins, the others stay).
    vars: Mapping[str, str] = field(default_factory=dict)
    length_s: float | None = None
    loudness_lufs: float | None = None
    formats: tuple[str, ...] | None = None
    bitrate: str | None = None
    #: A take of the script read aloud: the voice, instead of an engine's (`attune.speech.recording`).
    recording: Recording | None = None
    #: The take's clean-up: one of CLEAN_LEVELS (None: the default).
    clean: str | None = None
    #: The recogniser the take is aligned with: a faster-whisper model folder or name (None: tiny.en).
    asr_model: str | None = None

    def __post_init__(self) -> None:
        if self.recording is not None and not isinstance(self.recording, Recording):
            object.__setattr__(self, "recording", Recording(str(self.recording)))
        if self.background is not None and not isinstance(self.background, Background):
            # A plain value (the library's `TrackSettings(background="drone")`) resolves against the working folder.
            object.__setattr__(self, "background", Background(str(self.background) if isinstance(self.background, Path) else self.background))
        if self.formats is not None:
            object.__setattr__(self, "formats", (self.formats,) if isinstance(self.formats, str) else tuple(self.formats))
        object.__setattr__(self, "vars", {key: value if isinstance(value, str) else str(value) for key, value in dict(self.vars).items()})
        _validate(self)

    def over(self, lower: TrackSettings) -> TrackSettings:
        """These settings layered over `lower`: every field set here wins; vars are merged by name.
        An engine named here speaks instead of a recording given below (and a recording here, instead
        of any engine)."""
        values = {f.name: getattr(self, f.name) if getattr(self, f.name) is not None else getattr(lower, f.name) for f in fields(self) if f.name != "vars"}
        if self.engine is not None and self.recording is None:
            values["recording"] = None
        return TrackSettings(**values, vars={**lower.vars, **self.vars})

    @staticmethod
    def layered(*layers: TrackSettings | None) -> TrackSettings:
        """Merge layers given highest first (`layered(flags, track, defaults, script)`)."""
        result = TrackSettings()
        for layer in reversed([layer for layer in layers if layer is not None]):
            result = layer.over(result)
        return result

    def resolved(self) -> TrackSettings:
        """These settings with Attune's defaults filled in where nothing was set."""
        return self.over(DEFAULTS)

    @property
    def format(self) -> str:
        """The first (main) format."""
        return (self.formats or (FORMAT_NAMES[0],))[0]

    def fingerprint(self) -> str:
        """A content hash of the settings themselves (file contents are added by the request's fingerprint)."""
        material = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.background is not None:
            material["background"] = self.background.fingerprint_value()
        if self.recording is not None:
            material["recording"] = self.recording.fingerprint_value()
        return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()

    def with_changes(self, **changes: Any) -> TrackSettings:
        return replace(self, **changes)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"{name} must be a number, not {value!r}")
    return float(value)


def _validate(s: TrackSettings) -> None:
    """The one set of ranges. Messages name the setting; the caller adds the file and line."""
    if s.engine is not None and s.engine not in ENGINES:
        raise SettingsError(f"unknown speech engine {s.engine!r}", f"use one of: {', '.join(ENGINES)}")
    if s.voice is not None and (not isinstance(s.voice, str) or not s.voice.strip()):
        raise SettingsError(f"voice must be a voice name, not {s.voice!r}", "run `attune voices` to list them")
    if s.speaker is not None:
        if isinstance(s.speaker, bool) or not isinstance(s.speaker, (str, int)) or not str(s.speaker).strip():
            raise SettingsError(f"speaker must be a number or a speaker's name, not {s.speaker!r}", "`attune voices --engine piper` lists the speakers")
        object.__setattr__(s, "speaker", str(s.speaker).strip())
    if s.rate_wpm is not None:
        low, high = RATE_WPM_RANGE
        rate = _number(s.rate_wpm, "rate")
        if not low <= rate <= high:
            raise SettingsError(f"rate {rate:g} words per minute is out of range", f"use a rate from {low:g} to {high:g}, such as 140")
        object.__setattr__(s, "rate_wpm", rate)
    if s.pitch is not None:
        low, high = PITCH_RANGE
        if isinstance(s.pitch, bool) or not isinstance(s.pitch, int) or not low <= s.pitch <= high:
            raise SettingsError(f"pitch {s.pitch!r} is out of range", f"use a whole number from {low} to {high} (50 is the voice's normal pitch)")
    if s.background_db is not None:
        low, high = BACKGROUND_DB_RANGE
        level = _number(s.background_db, "background level")
        if not low <= level <= high:
            raise SettingsError(f"background level {level:g} dB is out of range", f"use a value from {low:g} to {high:g}, such as -22")
        object.__setattr__(s, "background_db", level)
    if s.loudness_lufs is not None:
        low, high = LOUDNESS_RANGE_LUFS
        target = _number(s.loudness_lufs, "loudness")
        if not low <= target <= high:
            raise SettingsError(
                f"loudness target {target:g} LUFS is out of range",
                f"use a value from {low:g} to {high:g}, such as -16 (louder voices would need heavy limiting to stay under -1 dBTP)",
            )
        object.__setattr__(s, "loudness_lufs", target)
    if s.length_s is not None:
        length = _number(s.length_s, "length")
        if not 0 < length <= MAX_DURATION_S:
            raise SettingsError(
                f"length {format_duration(length) if length > 0 else f'{length:g}'} is out of range", "give a length from 1s to 12h, such as 10m"
            )
        object.__setattr__(s, "length_s", length)
    if s.interval_bells_s is not None:
        every = _number(s.interval_bells_s, "interval_bells")
        if every and not 60.0 <= every <= MAX_DURATION_S:
            raise SettingsError(f"interval_bells {format_duration(every)} is out of range", "ring interval bells every minute or more, e.g. 10m, or off")
        object.__setattr__(s, "interval_bells_s", every)
    for name in ("bells_start", "bells_end"):
        value = getattr(s, name)
        if value is not None and not isinstance(value, bool):
            raise SettingsError(f"{name.replace('_', '.')} must be true or false, not {value!r}")
    for key in s.vars:
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise SettingsError(f"placeholder name {key!r} is not valid", "names are letters, digits and _, not starting with a digit: name=Ana")
    if s.formats is not None:
        object.__setattr__(s, "formats", parse_formats(s.formats))
    if s.recording is not None and (not isinstance(s.recording.value, str) or not s.recording.value.strip()):
        raise SettingsError(f"recording must be the path of a sound file, not {s.recording.value!r}", "write recording: my-take.m4a (wav, flac, mp3, m4a, ogg or opus)")
    if s.clean is not None and s.clean not in CLEAN_LEVELS:
        raise SettingsError(f"unknown clean-up {s.clean!r}", f"use one of: {', '.join(CLEAN_LEVELS)}")
    if s.asr_model is not None and (not isinstance(s.asr_model, str) or not s.asr_model.strip()):
        raise SettingsError(f"asr_model must be a model folder or name, not {s.asr_model!r}", "give a faster-whisper model folder, or a name such as base.en")
    if s.bitrate is not None:
        object.__setattr__(s, "bitrate", check_bitrate(s.bitrate))


def piper_pitch_refused(*, flag: bool = True) -> VoiceError:
    """The one refusal of a pitch with Piper, which has no pitch control: asked on the command line
    (`flag`: `--pitch`, or a roster's `pitch:` over a script), or in the same file as `engine: piper`."""
    if flag:
        return VoiceError("--pitch is not available with the piper engine", "Piper has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3")
    return VoiceError("pitch is not available with the piper engine", "Piper has no pitch control: remove pitch:, or use engine: pyttsx3")


def check_bitrate(bitrate: str) -> str:
    """`128k` style; returns it normalised. Each format then checks its own range."""
    low, high = BITRATE_RANGE_KBPS
    match = re.fullmatch(r"(\d{1,3})k", str(bitrate).strip().lower())
    if not match or not low <= int(match.group(1)) <= high:
        raise SettingsError(f"bitrate {bitrate!r} is not valid", "write it like 128k (MP3 and AAC 128k, Opus 64k by default)")
    return match.group(0)


DEFAULTS = TrackSettings(
    engine=DEFAULT_ENGINE,
    rate_wpm=DEFAULT_RATE_WPM,
    background_db=None,
    bells_start=False,
    bells_end=False,
    loudness_lufs=DEFAULT_LOUDNESS_LUFS,
    formats=(FORMAT_NAMES[0],),
)
