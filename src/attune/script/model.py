"""The script model: frozen dataclasses, the contract the planner and renderer code against.

A `Script` is a title, track settings (`TrackSettings`: voice, rate, length, background, bells…)
and sections; each `Section` is a list of items: `Speech`, `Pause` and `Bell`, each with its line.
The readers (`attune.script.load`) build them; invalid values raise `ScriptError` at construction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..durations import MAX_DURATION_S
from ..errors import ScriptError
from ..settings import TrackSettings

#: Seconds of one calm breath, for `[breath]` and `[breath N]`.
BREATH_S = 6.0

#: Pause kinds: where a `Pause` came from.
PAUSE_KINDS = ("pause", "breath", "break")

MAX_REPEAT = 100
MAX_BREATHS = 100


@dataclass(frozen=True)
class Speech:
    """Words to be spoken, placeholders already filled, whitespace folded to single spaces."""

    text: str
    line: int

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ScriptError(f"empty speech {self.text!r}", "speech needs words; drop the item instead", line=self.line)


@dataclass(frozen=True)
class Pause:
    """Silence of `min_s` seconds, stretchable up to `max_s` (None: open-ended).

    `kind` says where it came from: "pause" (`[pause …]`), "breath" (`[breath N]`) or
    "break" (SSML `<break time="…"/>`). Fixed pauses have `min_s == max_s`.
    """

    min_s: float
    max_s: float | None
    line: int
    kind: str = "pause"
    #: Interval bells in this pause (`[bells every 10m]`): seconds between them, from the pause's start.
    interval_s: float | None = None

    def __post_init__(self) -> None:
        shown = f"{self.min_s}..{'' if self.max_s is None else self.max_s}"
        if not _finite_seconds(self.min_s):
            raise ScriptError(f"pause {shown}: minimum {self.min_s!r} is not 0 to 12h", "give seconds from 0 to 43200", line=self.line)
        if self.max_s is not None:
            if not _finite_seconds(self.max_s):
                raise ScriptError(f"pause {shown}: maximum {self.max_s!r} is not 0 to 12h", "give seconds from 0 to 43200", line=self.line)
            if self.max_s < self.min_s:
                raise ScriptError(f"pause {shown} runs backwards", "give the shorter time first", line=self.line)
        if self.kind not in PAUSE_KINDS:
            raise ScriptError(f"pause kind {self.kind!r} is unknown", f"use one of {', '.join(PAUSE_KINDS)}", line=self.line)

    @property
    def elastic(self) -> bool:
        return self.max_s is None or self.max_s > self.min_s


@dataclass(frozen=True)
class Bell:
    """A bell strike at this point of the script."""

    line: int


Item = Speech | Pause | Bell

#: The settings a section may set for itself.
SECTION_SETTINGS = ("voice", "rate_wpm", "engine", "background", "background_db", "interval_bells_s", "recording")


@dataclass(frozen=True)
class ScriptWarning:
    """Text that looks like a marker but is not one (it will be spoken): where, what, and the fix."""

    message: str
    hint: str
    path: str | None
    line: int | None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path and self.line else (f"{self.path}: " if self.path else "")
        return f"{where}{self.message} — {self.hint}"


@dataclass(frozen=True)
class Section:
    """A named part of a practice; optional sections may be dropped to fit a length."""

    name: str
    items: tuple[Item, ...]
    line: int
    optional: bool = False
    repeat: int = 1
    #: The section's own voice, rate, engine, background, background level and take (None: the track's).
    #: They win over the track's settings, wherever those came from: the section is shaped on purpose.
    settings: TrackSettings = field(default_factory=TrackSettings)

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            object.__setattr__(self, "items", tuple(self.items))
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScriptError(f"section name {self.name!r} is empty", "give the section a name", line=self.line)
        if isinstance(self.repeat, bool) or not isinstance(self.repeat, int) or not 1 <= self.repeat <= MAX_REPEAT:
            raise ScriptError(f"repeat must be a whole number from 1 to {MAX_REPEAT}, not {self.repeat!r}", "write repeat: 2", line=self.line)


@dataclass(frozen=True)
class Script:
    """A parsed script. `path` is the file it came from, as given (used in error messages)."""

    path: str
    title: str
    sections: tuple[Section, ...]
    author: str | None = None
    description: str | None = None
    language: str | None = None
    #: The script's own track settings (voice, rate, pitch, length, background, bells, its `vars`
    #: defaults): the lowest layer, under a roster's and the command line's.
    settings: TrackSettings = field(default_factory=TrackSettings)
    #: The line of the `voice` key, so an unknown voice is reported where it was written.
    voice_line: int | None = None
    #: The line of the `language` key, so a voice that speaks another language is named there.
    language_line: int | None = None
    #: Placeholder values in force (the script's `vars` overlaid with the caller's).
    vars: Mapping[str, str] = field(default_factory=dict)
    #: Near misses: text that looks like a marker but will be spoken (`attune check --strict` fails on them).
    warnings: tuple[ScriptWarning, ...] = ()
    #: What the reader noticed that is no problem, e.g. a file read as another tool's format (line 0: the whole file).
    notes: tuple[ScriptWarning, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.sections, tuple):
            object.__setattr__(self, "sections", tuple(self.sections))
        if not isinstance(self.title, str) or not self.title.strip():
            raise ScriptError(f"title {self.title!r} is empty", "give the script a title", path=self.path)


def _finite_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= MAX_DURATION_S
