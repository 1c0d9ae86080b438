"""The YAML reader: a script as YAML, and the front matter of plain-text and Markdown scripts.

Parsed with PyYAML's safe loader into nodes, so every error names the line it is on and a fix:
unknown keys suggest the right one, settings are read by the one settings reader
(`attune.script.settings_reader`, which rosters use too), and the text of each section is scanned
line by line (`attune.script.text`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from ..errors import ScriptError, SettingsError
from ..settings import TrackSettings
from .model import MAX_REPEAT, Item, Script, Section
from .settings_reader import _MERGE, _NULL, SCRIPT_SETTINGS, SECTION_SETTINGS, SettingsReader, describe
from .settings_reader import kind as _kind
from .text import EMPTY_HINTS, Context, scan, short, suggest

TOP_KEYS = ("title", "author", "description", "language", *SCRIPT_SETTINGS, "sections")
SECTION_KEYS = ("name", "text", "optional", "repeat", *SECTION_SETTINGS)

__all__ = ["SECTION_KEYS", "TOP_KEYS", "YamlReader", "describe", "parse_yaml"]

_YAML_HINT = (
    "check the indentation and quoting on this line: text containing ': ' or ' #', or starting with "
    "[, {, *, &, ! or a quote, must be quoted or written as a block (text: |)"
)


class YamlReader(SettingsReader):
    """Reads a script from YAML nodes, knowing each node's line in the file (`offset`: lines before the
    YAML); its settings are read by the one settings reader, and every error is recorded (reading goes on)."""

    def __init__(self, ctx: Context, source: str, offset: int = 0):
        super().__init__(ctx.base_dir, ctx.path)
        self.ctx = ctx
        self.source = source
        self.offset = offset
        #: The title key was there but its value was wrong (reported): not also "missing title".
        self.title_failed = False

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def error(self, message: str, hint: str | None, node: yaml.Node | None) -> ScriptError:
        return self.ctx.error(message, hint, None if node is None else self.line(node))

    def report(self, exc: ScriptError) -> None:
        self.ctx.report(exc)

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

    def settings(self, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> dict[str, Any]:
        """Every key but `sections` → Script keyword arguments (track settings in `settings`); also
        sets the context's vars. Each key's error is recorded and the others are still read."""
        out: dict[str, Any] = {}

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

        for key in ("title", "author", "description", "language"):
            if key in fields:
                ok = self.attempt(title if key == "title" else functools.partial(text, key))
                if key == "title":
                    self.title_failed = not ok
        track = self.read(fields, SCRIPT_SETTINGS)
        if "voice" in track:
            out["voice_line"] = self.line(fields["voice"][1])
        if "language" in fields:
            out["language_line"] = self.line(fields["language"][1])
        defaults: dict[str, str] = dict(track.pop("vars", {}))
        self.ctx.vars = {**defaults, **self.ctx.overrides}
        try:
            out["settings"] = TrackSettings(**track, vars=defaults)
        except SettingsError as exc:  # pragma: no cover - every value is checked above, with its line
            raise self.ctx.error(exc.message, exc.hint) from None
        return out


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
    own = reader.read(fields, SECTION_SETTINGS)
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
    return Section(name, tuple(items), reader.line(entry), flags["optional"], flags["repeat"], TrackSettings(**own))
