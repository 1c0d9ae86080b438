"""Meditation scripts: YAML, plain text or Markdown, parsed into frozen dataclasses.

PARSER TO BE WRITTEN (owned by the script-parser work): `load_script` and `parse_script_text`.
The dataclasses below are the contract the planner and renderer code against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

#: Seconds of one calm breath, for `[breath]` and `[breath N]`.
BREATH_S = 6.0


@dataclass(frozen=True)
class Speech:
    """Words to be spoken, placeholders already filled, whitespace folded to single spaces."""

    text: str
    line: int


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

    @property
    def elastic(self) -> bool:
        return self.max_s is None or self.max_s > self.min_s


@dataclass(frozen=True)
class Bell:
    """A bell strike at this point of the script."""

    line: int


Item = Union[Speech, Pause, Bell]


@dataclass(frozen=True)
class Section:
    """A named part of a practice; optional sections may be dropped to fit a length."""

    name: str
    items: tuple[Item, ...]
    line: int
    optional: bool = False
    repeat: int = 1


@dataclass(frozen=True)
class Script:
    """A parsed script. `path` is the file it came from, as given (used in error messages)."""

    path: str
    title: str
    sections: tuple[Section, ...]
    author: str | None = None
    description: str | None = None
    language: str | None = None
    voice: str | None = None
    rate_wpm: float | None = None
    pitch: int | None = None
    length_s: float | None = None
    #: The raw `background` value (a string or a mapping), validated by `attune.beds`.
    background: Any = None
    background_line: int | None = None
    bells_start: bool = False
    bells_end: bool = False
    #: Placeholder values in force (the script's `vars` overlaid with the caller's).
    vars: Mapping[str, str] = field(default_factory=dict)


def load_script(path: str | Path, vars: Mapping[str, str] | None = None) -> Script:
    """Read and parse a script file; `vars` override the script's own `vars`."""
    raise NotImplementedError


def parse_script_text(text: str, *, path: str = "<script>", fmt: str = "yaml", vars: Mapping[str, str] | None = None) -> Script:
    """Parse script text of format "yaml", "txt" or "md"."""
    raise NotImplementedError
