"""The YAML reader: a script as YAML, and the front matter of plain-text and Markdown scripts.

Parsed with PyYAML's safe loader into nodes, so every error names the line it is on and a fix:
unknown keys suggest the right one, values are checked against the one set of ranges in
`attune.settings`, and the text of each section is scanned line by line (`attune.script.text`).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ..durations import parse_duration
from ..errors import LengthError, ScriptError, SettingsError
from ..settings import BACKGROUND_DB_RANGE, PITCH_RANGE, RATE_WPM_RANGE, Background, Recording, TrackSettings
from .model import MAX_REPEAT, Item, Script, Section
from .text import EMPTY_HINTS, PLACEHOLDER_NAME, Context, scan, short, suggest

TOP_KEYS = (
    "title",
    "author",
    "description",
    "language",
    "voice",
    "rate",
    "engine",
    "pitch",
    "length",
    "background",
    "background_db",
    "bells",
    "vars",
    "recording",
    "clean",
    "sections",
)
SECTION_KEYS = ("name", "text", "optional", "repeat", "voice", "rate", "engine", "background", "background_db", "recording")
BELL_KEYS = ("start", "end")

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR, _MERGE = (_TAG + t for t in ("null", "bool", "int", "float", "str", "merge"))
_YAML_HINT = (
    "check the indentation and quoting on this line: text containing ': ' or ' #', or starting with "
    "[, {, *, &, ! or a quote, must be quoted or written as a block (text: |)"
)


class YamlReader:
    """Reads settings from YAML nodes, knowing each node's line in the file (`offset`: lines before the YAML)."""

    def __init__(self, ctx: Context, source: str, offset: int = 0):
        self.ctx = ctx
        self.source = source
        self.offset = offset
        #: The title key was there but its value was wrong (reported): not also "missing title".
        self.title_failed = False

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def error(self, message: str, hint: str | None, node: yaml.Node | None) -> ScriptError:
        return self.ctx.error(message, hint, None if node is None else self.line(node))

    def compose(self) -> yaml.Node | None:
        try:
            return yaml.compose(self.source, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = ", ".join(p for p in (exc.context, exc.problem) if p)
            lines = self.source.split("\n")
            text = lines[min(mark.line, len(lines) - 1)] if mark else ""
            hint = _YAML_HINT
            if "another document" in problem:
                hint = "a script is one YAML document: remove the second --- line"
            elif re.search(r":\s+[\[{]", text):
                hint = "a value that starts with [ or { is read as a YAML list or mapping: write `text: |` and put the text on the next lines, indented"
            shown = f" in {short(text, 60)!r}" if text.strip() else ""
            raise self.ctx.error(f"YAML syntax error ({problem}){shown}", hint, mark.line + 1 + self.offset if mark else None) from None
        except yaml.reader.ReaderError as exc:
            line = self.source.count("\n", 0, max(0, exc.position)) + 1 + self.offset
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise self.ctx.error(f"control character U+{code:04X} is not allowed in YAML", "delete it", line) from None
        except yaml.YAMLError as exc:  # pragma: no cover - every pyyaml error is one of the above
            raise self.ctx.error(f"YAML error: {exc}", _YAML_HINT) from None

    def mapping(self, node: yaml.MappingNode, known: tuple[str, ...], what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The mapping's keys (checked against `known`) → (key node, value node). Merge keys are applied."""
        seen: set[str] = set()
        reported: set[int] = set()  # keys already reported: skipped, and reading goes on
        for key, _ in node.value:
            if key.tag == _MERGE:
                continue
            problem = None
            if not isinstance(key, yaml.ScalarNode):
                problem = self.error(f"a {what} key must be a name, not a {_kind(key)}", f"the keys are {', '.join(known)}", key)
            elif key.value not in known:
                close = suggest(key.value, known)
                hint = f"did you mean {close!r}?" if close else f"the {what} keys are {', '.join(known)}"
                problem = self.error(f"unknown key {short(key.value)!r}", hint, key)
                if close == "title":
                    self.title_failed = True  # `Title:` is the title, misspelt: not also "missing title"
            elif key.value in seen:
                problem = self.error(f"duplicate key {key.value!r}", "give each key once", key)
            else:
                seen.add(key.value)
            if problem is not None:
                self.ctx.report(problem)
                reported.add(id(key))
        try:
            SafeConstructor().flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            raise self.error(f"bad merge (<<): {exc.problem}", "merge only mappings, e.g. <<: *defaults", node) from None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if id(key) in reported:
                continue
            if not isinstance(key, yaml.ScalarNode) or key.value not in known:
                name = key.value if isinstance(key, yaml.ScalarNode) else _kind(key)
                self.ctx.report(self.error(f"unknown key {short(str(name))!r} (from a merge)", f"the {what} keys are {', '.join(known)}", key))
                continue
            result[key.value] = (key, value)
        return result

    def string(self, key: str, node: yaml.Node) -> str | None:
        """A text setting, as written: `language: no` is 'no', not False. Null is None."""
        if isinstance(node, yaml.ScalarNode):
            return None if node.tag == _NULL else node.value
        raise self.error(f"{key} must be text, not a {_kind(node)}", f"write {key}: followed by the text on the same line", node)

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

    def text_lines(self, node: yaml.ScalarNode) -> list[tuple[int, str]]:
        """A text scalar as numbered source lines, so markers report the line they are on in the file.

        Block (`|`, `>`), plain and quoted scalars are read from the source when that holds the
        same words as YAML's value (it does unless escapes were used); otherwise from the value.
        """
        value = node.value
        first = self.line(node)
        raw = self.source[node.start_mark.index : node.end_mark.index]
        if node.style in ("|", ">"):
            lines = raw.split("\n")[1:]
            first += 1
        else:
            if node.style == "'":
                raw = raw[1:-1].replace("''", "'")
            elif node.style == '"':
                raw = raw[1:-1]
            lines = raw.split("\n")
        if " ".join(lines).split() == value.split():
            return [(first + k, text) for k, text in enumerate(lines)]
        # Escapes changed the words: read YAML's value. Its lines match the source's only in a `|` block.
        step = 1 if node.style == "|" else 0
        return [(first + k * step, text) for k, text in enumerate(value.split("\n"))]

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
            f"background must be a name or a mapping, not a {_kind(node)}", "write background: drone, or a mapping such as {kind: drone, gain_db: -20}", node
        )

    def attempt(self, read: Any) -> bool:
        """Run `read()`; an error is recorded (reading goes on) and False returned."""
        try:
            read()
        except ScriptError as exc:
            self.ctx.report(exc)
            return False
        return True

    def settings(self, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> dict[str, Any]:
        """Every key but `sections` → Script keyword arguments (track settings in `settings`); also
        sets the context's vars. Each key's error is recorded and the others are still read."""
        out: dict[str, Any] = {}
        track: dict[str, Any] = {}

        def title() -> None:
            value = self.string("title", fields["title"][1])
            if value is not None:
                value = " ".join(value.split())
                if not value:
                    raise self.error("title is empty", "write title: followed by the practice's name", fields["title"][1])
                out["title"] = value

        def text(key: str) -> None:
            value = self.string(key, fields[key][1])
            out[key] = (value.strip() or None) if value is not None else None

        def voice() -> None:
            track.update(self.voice_settings(fields))
            out["voice_line"] = self.line(fields["voice"][1])

        def pitch() -> None:
            engine_node = fields["engine"][1] if "engine" in fields else None
            if isinstance(engine_node, yaml.ScalarNode) and str(engine_node.value).strip() == "piper":
                raise self.error("pitch is not available with the piper engine", "Piper has no pitch control: remove pitch:, or use engine: pyttsx3", fields["pitch"][1])
            track["pitch"] = self.number("pitch", fields["pitch"][1], *PITCH_RANGE, whole=True, hint="50 is normal, e.g. pitch: 50")

        def length() -> None:
            track["length_s"] = self.length(fields["length"][1])

        def clean() -> None:
            node = fields["clean"][1]
            value = self.string("clean", node)
            if value is not None:
                self.checked(node, clean=value.strip())
                track["clean"] = value.strip()

        def bells() -> None:
            node = fields["bells"][1]
            if not isinstance(node, yaml.MappingNode):
                raise self.error(f"bells must be a mapping, not {describe(node)}", "write bells: {start: true, end: true}", node)
            entries = self.mapping(node, BELL_KEYS, "bells")
            for key in BELL_KEYS:
                if key in entries:
                    track[f"bells_{key}"] = self.boolean(f"bells.{key}", entries[key][1])

        readers: dict[str, Any] = {"title": title, "author": lambda: text("author"), "description": lambda: text("description"),
                   "language": lambda: text("language"), "voice": voice, "pitch": pitch, "length": length, "bells": bells, "clean": clean}  # fmt: skip
        for key in fields:
            if key in readers:
                ok = self.attempt(readers[key])
                if key == "title":
                    self.title_failed = not ok
        track.update(self.shaping(fields, skip=("voice",)))
        defaults: dict[str, str] = {}
        if "vars" in fields:
            self.attempt(lambda: defaults.update(self.vars(fields["vars"][1])))
        self.ctx.vars = {**defaults, **self.ctx.overrides}
        try:
            out["settings"] = TrackSettings(**track, vars=defaults)
        except SettingsError as exc:  # pragma: no cover - every value is checked above, with its line
            raise self.ctx.error(exc.message, exc.hint) from None
        return out

    def voice_settings(self, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> dict[str, Any]:
        value = self.string("voice", fields["voice"][1])
        return {"voice": (value.strip() or None) if value is not None else None}

    def shaping(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The settings a section may also set (voice, rate, engine, background, background_db, recording) as
        TrackSettings keyword arguments; each is checked where it is written, and errors recorded."""
        track: dict[str, Any] = {}

        def rate() -> None:
            track["rate_wpm"] = float(self.number("rate", fields["rate"][1], *RATE_WPM_RANGE, whole=False, hint="give words per minute, e.g. rate: 150"))

        def engine() -> None:
            node = fields["engine"][1]
            value = self.string("engine", node)
            if value is not None:
                self.checked(node, engine=value.strip())
                track["engine"] = value.strip()

        def background() -> None:
            node = fields["background"][1]
            value = self.background(node)
            if value is not None:
                track["background"] = Background(value, base_dir=self.ctx.base_dir, path=self.ctx.path, line=self.line(node))

        def background_db() -> None:
            low, high = BACKGROUND_DB_RANGE
            track["background_db"] = float(
                self.number(
                    "background_db", fields["background_db"][1], low, high, whole=False, hint="the bed's level under the voice in dB, e.g. background_db: -22"
                )
            )

        def recording() -> None:
            node = fields["recording"][1]
            value = self.string("recording", node)
            if value is not None:
                track["recording"] = self.checked(node, recording=Recording(value.strip(), base_dir=self.ctx.base_dir, path=self.ctx.path, line=self.line(node))).recording

        readers = {"voice": lambda: track.update(self.voice_settings(fields)), "rate": rate, "engine": engine,
                   "background": background, "background_db": background_db, "recording": recording}  # fmt: skip
        for key in fields:
            if key in readers and key not in skip:
                self.attempt(readers[key])
        return track

    def checked(self, node: yaml.Node, **values: Any) -> TrackSettings:
        """TrackSettings(**values), its error reported at `node`."""
        try:
            return TrackSettings(**values)
        except SettingsError as exc:
            raise self.error(exc.message, exc.hint, node) from None

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

    def vars(self, node: yaml.Node) -> dict[str, str]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise self.error(f"vars must be a mapping of placeholder values, not {describe(node)}", "write vars: then lines like `  name: friend`", node)
        result: dict[str, str] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or not PLACEHOLDER_NAME.fullmatch(key.value):
                shown = short(key.value) if isinstance(key, yaml.ScalarNode) else f"a {_kind(key)}"
                raise self.error(f"vars name {shown!r} is not a placeholder name", "names are letters, digits and _, not starting with a digit", key)
            if key.value in result:
                raise self.error(f"duplicate vars name {key.value!r}", "give each name once", key)
            if not isinstance(value, yaml.ScalarNode):
                raise self.error(f"vars value for {key.value!r} must be text or a number, not a {_kind(value)}", f"write {key.value}: friend", value)
            if value.tag == _NULL:
                raise self.error(f"vars value for {key.value!r} is empty", f'give it a value, e.g. {key.value}: friend, or {key.value}: "" for nothing', value)
            result[key.value] = value.value
        return result


def _kind(node: yaml.Node) -> str:
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
    return f"a {_kind(node)}"


def parse_yaml(text: str, ctx: Context) -> Script:
    reader = YamlReader(ctx, text)
    root = reader.compose()
    if root is None:
        raise ctx.error("script is empty", EMPTY_HINTS["yaml"])
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(f"a YAML script must be a mapping of settings, not {describe(root)}", "start it with `title: …` and a `sections:` list", root)
    fields = reader.mapping(root, TOP_KEYS, "script")
    settings = reader.settings(fields)
    if "title" not in settings and not reader.title_failed:
        ctx.report(ctx.error("missing title", "add `title: …` at the top of the script"))
    if "sections" not in fields:
        ctx.report(ctx.error("missing sections", "add `sections:` with one `- text: …` entry per part of the practice"))
        raise ctx.errors[0]
    sections = _yaml_sections(reader, fields["sections"][1])
    if ctx.errors:
        raise ctx.errors[0]  # every error is in ctx: load_script reports them all
    return Script(path=ctx.path, sections=sections, vars=dict(ctx.vars), **settings)


def _yaml_sections(reader: YamlReader, node: yaml.Node) -> tuple[Section, ...]:
    hint = "write `sections:` then one `- name: …` / `  text: …` entry per section"
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(f"sections must be a list, not {describe(node)}", hint, node)
    if not node.value:
        raise reader.error("sections is empty", hint, node)
    sections = []
    for index, entry in enumerate(node.value, 1):
        try:
            section = _yaml_section(reader, entry, index, hint)
        except ScriptError as exc:
            reader.ctx.report(exc)
        else:
            if section is not None:
                sections.append(section)
    return tuple(sections)


def _yaml_section(reader: YamlReader, entry: yaml.Node, index: int, hint: str) -> Section | None:
    """One section; None when its errors were recorded."""
    ctx = reader.ctx
    errors_before = len(ctx.errors)
    if not isinstance(entry, yaml.MappingNode):
        raise reader.error(f"section {index} must be a mapping with text:, not {describe(entry)}", hint, entry)
    fields = reader.mapping(entry, SECTION_KEYS, "section")
    flags: dict[str, Any] = {"name": None, "optional": False, "repeat": 1}
    if "name" in fields:
        reader.attempt(lambda: flags.update(name=reader.string("name", fields["name"][1])))
    name = " ".join((flags["name"] or "").split()) or f"Section {index}"
    if "optional" in fields:
        reader.attempt(lambda: flags.update(optional=reader.boolean("optional", fields["optional"][1])))
    if "repeat" in fields:
        reader.attempt(lambda: flags.update(repeat=int(reader.number("repeat", fields["repeat"][1], 1, MAX_REPEAT, whole=True, hint="write repeat: 2"))))
    shaping = reader.shaping(fields)
    text_node = fields["text"][1] if "text" in fields else None
    items: list[Item] = []
    if text_node is not None:
        if not isinstance(text_node, yaml.ScalarNode):
            raise reader.error(
                f"text must be the words to speak, not a {_kind(text_node)}",
                "a text starting with [ is read as a YAML list: write `text: |` and the text on the next lines, indented",
                text_node,
            )
        if text_node.tag != _NULL:
            items = scan(reader.text_lines(text_node), ctx)
    if len(ctx.errors) > errors_before:
        return None
    if not items:
        raise reader.error(
            f"section {name!r} has no text", "add `text:` with the words to speak, or remove the section", text_node if text_node is not None else entry
        )
    return Section(name, tuple(items), reader.line(entry), flags["optional"], flags["repeat"], TrackSettings(**shaping))
