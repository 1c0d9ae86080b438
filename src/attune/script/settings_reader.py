"""The one YAML settings reader: a script's settings, a section's, a roster's `defaults:` and each track's.

Every setting has one rule and one message here, whoever writes it:

    voice          text (empty: not set)                 rate           a number of words per minute, 80 to 400
    engine         pyttsx3 or piper                      pitch          a whole number, 0 to 100; not with engine: piper
    length         a duration with a unit (10m, 90s)     background     a kind, a sound file, or a mapping
    background_db  a level in dB, -60 to 0               vars           placeholder name: text or a number
    bells          true / false (both bells), or {start: true, end: false}
    interval_bells a duration of a minute or more (10m, 15 minutes), or off
    formats        a format, or a list of them (mp3, m4a, m4b, opus, flac, wav)
    recording      a take: a sound file, relative to the file it is written in
    clean          the take's clean-up: none, light or full

Which keys each place takes is the caller's (`SCRIPT_SETTINGS`, `SECTION_SETTINGS`,
`ROSTER_SETTINGS`); the values are read from PyYAML nodes, so each error names the line it is on.
A subclass says how an error is made (`error`) and what happens to it (`report`: a script records
it and reads on; a roster stops at the track).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ..durations import parse_duration
from ..errors import LengthError, ScriptError, SettingsError, VoiceError
from ..settings import BACKGROUND_DB_RANGE, PITCH_RANGE, RATE_WPM_RANGE, Background, Recording, TrackSettings, piper_pitch_refused
from .spellings import interval_seconds
from .text import PLACEHOLDER_NAME, short, suggest

#: The settings a whole script sets (beside its title, author, description, language and sections).
SCRIPT_SETTINGS = ("voice", "rate", "engine", "pitch", "length", "background", "background_db", "bells", "interval_bells", "vars", "recording", "clean")
#: The settings one section may change for itself.
SECTION_SETTINGS = ("voice", "rate", "engine", "background", "background_db", "interval_bells", "recording")
#: The settings a roster's `defaults:`, and each of its tracks, may give.
ROSTER_SETTINGS = ("length", "engine", "voice", "rate", "pitch", "background", "background_db", "bells", "interval_bells", "vars", "formats", "recording", "clean")
BELL_KEYS = ("start", "end")

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR, _MERGE = (_TAG + t for t in ("null", "bool", "int", "float", "str", "merge"))

Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "value"


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL:
            return "an empty value"
        return repr(short(node.value)) if node.tag == _STR else short(node.value)
    return f"a {kind(node)}"


class SettingsReader:
    """Reads settings from YAML nodes: `read(fields, keys)` → `TrackSettings` keyword arguments."""

    def __init__(self, base_dir: Path, path: str | None):
        #: The folder relative sound files resolve against, and the file (for a background's messages).
        self.base_dir = base_dir
        self.path = path

    # -- what a subclass decides ------------------------------------------------------------------

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1

    def error(self, message: str, hint: str | None, node: yaml.Node | None) -> ScriptError:
        return ScriptError(message, hint, path=self.path, line=None if node is None else self.line(node))

    def report(self, exc: ScriptError) -> None:
        """A setting was wrong: by default, stop here."""
        raise exc

    def attempt(self, read: Callable[[], Any]) -> bool:
        """Run `read()`; an error is reported (a script reads on) and False returned."""
        try:
            read()
        except ScriptError as exc:
            self.report(exc)
            return False
        return True

    # -- values --------------------------------------------------------------------------------

    def string(self, key: str, node: yaml.Node) -> str | None:
        """A text setting, as written: `language: no` is 'no', not False. Null is None."""
        if isinstance(node, yaml.ScalarNode):
            return None if node.tag == _NULL else node.value
        raise self.error(f"{key} must be text, not a {kind(node)}", f"write {key}: followed by the text on the same line", node)

    def boolean(self, key: str, node: yaml.Node) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return SafeConstructor().construct_yaml_bool(node)
        raise self.error(f"{key} must be true or false, not {describe(node)}", f"write {key}: true or {key}: false", node)

    def number(self, key: str, node: yaml.Node, low: float, high: float, *, whole: bool, hint: str) -> float | int:
        expected = f"{'a whole number' if whole else 'a number'} from {low:g} to {high:g}"
        value: float | int | None = None
        if isinstance(node, yaml.ScalarNode) and node.tag in ((_INT,) if whole else (_INT, _FLOAT)):
            constructor = SafeConstructor()
            try:
                value = constructor.construct_yaml_int(node) if node.tag == _INT else constructor.construct_yaml_float(node)
            except (ValueError, OverflowError):
                value = None
        if value is None or not (low <= value <= high):
            raise self.error(f"{key} must be {expected}, not {describe(node)}", hint, node)
        return value

    def mapping(self, node: yaml.MappingNode, known: tuple[str, ...], what: str) -> Fields:
        """The mapping's keys (checked against `known`) → (key node, value node)."""
        result: Fields = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(f"a {what} key must be a name, not a {kind(key)}", f"the keys are {', '.join(known)}", key)
            if key.value not in known:
                close = suggest(key.value, known)
                raise self.error(f"unknown key {short(key.value)!r}", f"did you mean {close!r}?" if close else f"the {what} keys are {', '.join(known)}", key)
            if key.value in result:
                raise self.error(f"duplicate key {key.value!r}", "give each key once", key)
            result[key.value] = (key, value)
        return result

    def checked(self, node: yaml.Node, **values: Any) -> TrackSettings:
        """TrackSettings(**values), its error reported at `node`."""
        try:
            return TrackSettings(**values)
        except SettingsError as exc:
            raise self.error(exc.message, exc.hint, node) from None

    # -- the settings --------------------------------------------------------------------------

    def read(self, fields: Fields, keys: tuple[str, ...]) -> dict[str, Any]:
        """Every key of `keys` in `fields` → TrackSettings keyword arguments. Each key's error is
        reported (and, where `report` returns, the others are still read)."""
        out: dict[str, Any] = {}
        for key in fields:
            if key in keys:
                self.attempt(functools.partial(self._read_into, out, key, fields))
        return out

    def _read_into(self, out: dict[str, Any], key: str, fields: Fields) -> None:
        out.update(self._read(key, fields))

    def _read(self, key: str, fields: Fields) -> dict[str, Any]:
        node = fields[key][1]
        if key == "voice":
            value = self.string("voice", node)
            return {"voice": (value.strip() or None) if value is not None else None}
        if key == "rate":
            return {"rate_wpm": float(self.number("rate", node, *RATE_WPM_RANGE, whole=False, hint="give words per minute, e.g. rate: 150"))}
        if key == "engine":
            value = self.string("engine", node)
            if value is None:
                return {}
            self.checked(node, engine=value.strip())
            return {"engine": value.strip()}
        if key == "pitch":
            return {"pitch": self.pitch(node, fields)}
        if key == "length":
            return {"length_s": self.length(node)}
        if key == "background":
            value = self.background(node)
            return {} if value is None else {"background": Background(value, base_dir=self.base_dir, path=self.path, line=self.line(node))}
        if key == "background_db":
            hint = "the bed's level under the voice in dB, e.g. background_db: -22"
            return {"background_db": float(self.number("background_db", node, *BACKGROUND_DB_RANGE, whole=False, hint=hint))}
        if key == "bells":
            return self.bells(node)
        if key == "interval_bells":
            return {"interval_bells_s": self.interval(node)}
        if key == "vars":
            return {"vars": self.vars(node)}
        if key == "formats":
            return {"formats": self.formats(node)}
        if key == "recording":
            value = self.string("recording", node)
            if value is None or not value.strip():
                raise self.error("recording is empty", "give the take's file, e.g. recording: my-take.m4a", node)
            return {"recording": Recording(value.strip(), base_dir=self.base_dir, path=self.path, line=self.line(node))}
        if key == "clean":
            value = self.string("clean", node)
            if value is None:
                return {}
            self.checked(node, clean=value.strip())
            return {"clean": value.strip()}
        raise AssertionError(f"unhandled setting {key!r}")  # pragma: no cover - every key above is read

    def pitch(self, node: yaml.Node, fields: Fields) -> int:
        engine = fields["engine"][1] if "engine" in fields else None
        if isinstance(engine, yaml.ScalarNode) and str(engine.value).strip() == "piper":
            exc: VoiceError = piper_pitch_refused(flag=False)
            raise self.error(exc.message, exc.hint, node)
        return int(self.number("pitch", node, *PITCH_RANGE, whole=True, hint="50 is normal, e.g. pitch: 50"))

    def length(self, node: yaml.Node) -> float:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            raise self.error(f"length must be a duration such as 10m, not {describe(node)}", "write length: 10m", node)
        text = node.value.strip()
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
            number = float(text)
            hint = f"write {text}s or {int(number) // 60}m" if number >= 60 and number % 60 == 0 else f"write {text}s or {text}m"
            raise self.error(f"length {text!r} has no unit", hint, node)
        try:
            seconds = parse_duration(text, what="length")
        except LengthError as exc:
            raise self.error(exc.message, exc.hint, node) from None
        if seconds <= 0:
            raise self.error(f"length {text!r} is zero", "give the track's length, e.g. length: 10m", node)
        return seconds

    def interval(self, node: yaml.Node) -> float:
        """`interval_bells: 10m` (or `10 minutes`, `off`) → seconds between interval bells; 0.0 is off."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            raise self.error(f"interval_bells must be a duration such as 10m, not {describe(node)}", "write interval_bells: 10m", node)
        try:
            return interval_seconds(node.value)
        except LengthError as exc:
            raise self.error(exc.message, exc.hint, node) from None

    def background(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return None if node.tag == _NULL else node.value
        if isinstance(node, yaml.MappingNode):
            try:
                return SafeConstructor().construct_document(node)
            except yaml.MarkedYAMLError as exc:
                raise self.error(f"background: {exc.problem}", "write plain values, e.g. {kind: drone, gain_db: -20}", node) from None
            except (ValueError, TypeError, OverflowError) as exc:
                raise self.error(f"background: {exc}", "write plain values, e.g. {kind: drone, gain_db: -20}", node) from None
        raise self.error(
            f"background must be a name or a mapping, not a {kind(node)}", "write background: drone, or a mapping such as {kind: drone, gain_db: -20}", node
        )

    def bells(self, node: yaml.Node) -> dict[str, Any]:
        """`bells: true` (or false) rings (or silences) both; a mapping sets each: {start: true, end: false}."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            both = self.boolean("bells", node)
            return {"bells_start": both, "bells_end": both}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"bells must be true, false or a mapping, not {describe(node)}", "write bells: true, or bells: {start: true, end: false}", node)
        entries = self.mapping(node, BELL_KEYS, "bells")
        return {f"bells_{key}": self.boolean(f"bells.{key}", entries[key][1]) for key in BELL_KEYS if key in entries}

    def vars(self, node: yaml.Node) -> dict[str, str]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"vars must be a mapping of placeholder values, not {describe(node)}", "write vars: then lines like `  name: friend`", node)
        result: dict[str, str] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or not PLACEHOLDER_NAME.fullmatch(key.value):
                shown = short(key.value) if isinstance(key, yaml.ScalarNode) else f"a {kind(key)}"
                raise self.error(f"vars name {shown!r} is not a placeholder name", "names are letters, digits and _, not starting with a digit", key)
            if key.value in result:
                raise self.error(f"duplicate vars name {key.value!r}", "give each name once", key)
            if not isinstance(value, yaml.ScalarNode):
                raise self.error(f"vars value for {key.value!r} must be text or a number, not a {kind(value)}", f"write {key.value}: friend", value)
            if value.tag == _NULL:
                raise self.error(f"vars value for {key.value!r} is empty", f'give it a value, e.g. {key.value}: friend, or {key.value}: "" for nothing', value)
            result[key.value] = value.value
        return result

    def formats(self, node: yaml.Node) -> tuple[str, ...]:
        items = [node] if isinstance(node, yaml.ScalarNode) and node.tag == _STR else node.value if isinstance(node, yaml.SequenceNode) else None
        if not items or not all(isinstance(item, yaml.ScalarNode) and item.tag == _STR for item in items):
            raise self.error(f"formats must be a format or a list of formats, not {describe(node)}", "write e.g. formats: [mp3, m4a]", node)
        formats = tuple(item.value for item in items)
        self.checked(node, formats=formats)
        return formats
