"""Meditation scripts: YAML, plain text or Markdown, parsed into frozen dataclasses.

`load_script(path)` reads a file (the suffix picks the format) and `parse_script_text(text, fmt=…)`
parses text; both return a `Script` or raise `ScriptError` with the file, the line and a fix.
The dataclasses are the contract the planner and renderer code against.

Inline markers, in any format's text: `[pause 5s]`, `[pause 10s..2m]`, `[pause 10s..]`, `[breath]`,
`[breath 3]`, `[bell]`, SSML `<break time="3s"/>`, and `{name}` placeholders (`{{` and `}}` are
literal braces). Markers must close on the line they open; any other square-bracket text is an error.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from yaml.constructor import SafeConstructor

from .durations import MAX_DURATION_S, format_duration, parse_duration
from .errors import LengthError, ScriptError

#: Seconds of one calm breath, for `[breath]` and `[breath N]`.
BREATH_S = 6.0

#: The largest script file `load_script` reads.
MAX_SCRIPT_BYTES = 1_000_000

#: File suffix → format.
SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".txt": "txt", ".md": "md"}

#: Pause kinds: where a `Pause` came from.
PAUSE_KINDS = ("pause", "breath", "break")

MAX_REPEAT = 100
MAX_BREATHS = 100
RATE_WPM_RANGE = (80, 400)
PITCH_RANGE = (0, 100)


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

    def __post_init__(self) -> None:
        shown = f"{self.min_s}..{'' if self.max_s is None else self.max_s}"
        if not _finite_seconds(self.min_s):
            raise ScriptError(f"pause {shown}: minimum {self.min_s!r} is not 0 to 12h", "give seconds from 0 to 43200",
                              line=self.line)
        if self.max_s is not None:
            if not _finite_seconds(self.max_s):
                raise ScriptError(f"pause {shown}: maximum {self.max_s!r} is not 0 to 12h", "give seconds from 0 to 43200",
                                  line=self.line)
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


Item = Union[Speech, Pause, Bell]


@dataclass(frozen=True)
class Section:
    """A named part of a practice; optional sections may be dropped to fit a length."""

    name: str
    items: tuple[Item, ...]
    line: int
    optional: bool = False
    repeat: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.items, tuple):
            object.__setattr__(self, "items", tuple(self.items))
        if not isinstance(self.name, str) or not self.name.strip():
            raise ScriptError(f"section name {self.name!r} is empty", "give the section a name", line=self.line)
        if isinstance(self.repeat, bool) or not isinstance(self.repeat, int) or not 1 <= self.repeat <= MAX_REPEAT:
            raise ScriptError(f"repeat must be a whole number from 1 to {MAX_REPEAT}, not {self.repeat!r}",
                              "write repeat: 2", line=self.line)


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
    #: The line of the `voice` key, so an unknown voice is reported where it was written.
    voice_line: int | None = None
    bells_start: bool = False
    bells_end: bool = False
    #: Placeholder values in force (the script's `vars` overlaid with the caller's).
    vars: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.sections, tuple):
            object.__setattr__(self, "sections", tuple(self.sections))
        if not isinstance(self.title, str) or not self.title.strip():
            raise ScriptError(f"title {self.title!r} is empty", "give the script a title", path=self.path)


def _finite_seconds(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value <= MAX_DURATION_S)


# --------------------------------------------------------------------------------------------
# Entry points


def load_script(path: str | Path, vars: Mapping[str, str] | None = None) -> Script:
    """Read and parse a script file; `vars` override the script's own `vars`.

    The suffix picks the format (.yaml/.yml, .txt, .md). The file must exist, be UTF-8 text
    (no NUL bytes) of at most `MAX_SCRIPT_BYTES`, and not be blank.
    """
    where = str(path)
    file = Path(path)
    if not file.exists():
        raise ScriptError("no such script", "check the path and the file name (scripts end in .yaml, .yml, .txt or .md)", path=where)
    if file.is_dir():
        raise ScriptError("is a folder, not a script", "give a script file such as practice.yaml", path=where)
    suffix = file.suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        shown = repr(file.suffix) if file.suffix else "no suffix"
        raise ScriptError(f"unsupported script type ({shown})",
                          "name the file .yaml or .yml (YAML), .txt (plain text) or .md (Markdown)", path=where)
    try:
        size = file.stat().st_size
        if size <= MAX_SCRIPT_BYTES:
            with file.open("rb") as handle:
                data = handle.read(MAX_SCRIPT_BYTES + 1)
                size = len(data)
    except OSError as exc:
        raise ScriptError(f"cannot read the script: {exc.strerror or exc}", "check that the file is readable", path=where) from None
    if size > MAX_SCRIPT_BYTES:
        raise ScriptError(f"script is {size:,} bytes, over the {MAX_SCRIPT_BYTES:,}-byte limit",
                          "split it into shorter scripts", path=where)
    return parse_script_text(_decode(data, where), path=where, fmt=SUFFIX_FORMATS[suffix], vars=vars)


def parse_script_text(text: str, *, path: str = "<script>", fmt: str = "yaml", vars: Mapping[str, str] | None = None) -> Script:
    """Parse script text of format "yaml", "txt" or "md"; `vars` override the script's own `vars`."""
    fmt = {"yml": "yaml"}.get(fmt, fmt)
    if fmt not in ("yaml", "txt", "md"):
        raise ScriptError(f"unknown script format {fmt!r}", "use 'yaml', 'txt' or 'md'", path=path)
    ctx = _Context(path, _check_overrides(vars, path))
    text = _normalise_newlines(text.removeprefix("\ufeff"))
    if "\0" in text:
        raise ctx.error("the script contains a NUL character", "this looks like a binary file; save the script as plain UTF-8 text",
                        text.count("\n", 0, text.index("\0")) + 1)
    if not text.strip():
        raise ctx.error("script is empty", _EMPTY_HINTS[fmt])
    try:
        script = _parse_yaml(text, ctx) if fmt == "yaml" else _parse_prose(text, ctx, fmt)
    except RecursionError:  # pyyaml composes nested lists and merges recursively
        raise ctx.error("the YAML is nested too deeply", "a script needs only a few levels of nesting") from None
    _check_total_pauses(script, ctx)
    return script


def split_sentences(text: str) -> list[str]:
    """Split speech into sentences after `.`, `!`, `?` or `…` (or runs of them) and whitespace.

    Punctuation (and a closing quote or bracket after it) stays with its sentence. There is no
    split after Dr., Mr., Mrs., Ms., St., e.g. or i.e., nor inside numbers such as 3.5.
    Non-blank text gives at least one sentence; blank text gives an empty list.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().rstrip(_CLOSERS) == "." and _ends_with_abbreviation(text, match.start()):
            continue
        piece = text[start:match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


_CLOSERS = "\"'”’»)]"
# Possessive, and only from the start of a punctuation run: linear even on "......".
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s)")
_ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "st", "e.g", "i.e"})


def _ends_with_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace() and dot - start < 8:
        start -= 1
    word = text[start:dot].lstrip("([{\"'“‘«")
    return word.lower() in _ABBREVIATIONS


# --------------------------------------------------------------------------------------------
# Shared pieces

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN_RUN = re.compile(r"[^\[\]{}<]+|<")
_BREAK_START = re.compile(r"<break\b", re.IGNORECASE)
_BREAK = re.compile(r"""<break\s+time\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)')\s*/>""", re.IGNORECASE)
_MARKER_WORD = re.compile(r"([A-Za-z]+)(?:\s+(.*))?", re.DOTALL)

MARKERS_HINT = "Markers are [pause 5s], [pause 10s..2m], [pause 10s..], [breath], [breath 3], [bell]"
_MARKER_EXAMPLES = {"pause": "[pause 5s]", "breath": "[breath]", "bell": "[bell]"}
_PLACEHOLDER_HINT = "write {name} for a placeholder (letters, digits and _), or {{ and }} for literal braces"

_EMPTY_HINTS = {
    "yaml": "start it with `title: …` and a `sections:` list",
    "txt": "start it with front matter (---, title: …, ---) and then the words to speak",
    "md": "start it with a `# Title` line and then the words to speak",
}

TOP_KEYS = ("title", "author", "description", "language", "voice", "rate", "pitch", "length",
            "background", "bells", "vars", "sections")
SECTION_KEYS = ("name", "text", "optional", "repeat")
BELL_KEYS = ("start", "end")


class _Context:
    """Where we are (the path) and the placeholder values in force."""

    def __init__(self, path: str, overrides: dict[str, str]):
        self.path = path
        self.overrides = overrides
        self.vars: dict[str, str] = dict(overrides)

    def error(self, message: str, hint: str | None, line: int | None = None) -> ScriptError:
        return ScriptError(message, hint, path=self.path, line=line)


def _decode(data: bytes, where: str) -> str:
    """UTF-8 bytes → text, refusing UTF-16, binary files and bad bytes with their line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScriptError("script is UTF-16 text", "save it as UTF-8", path=where)
    if b"\0" in data:
        line = _line_of_byte(data, data.index(b"\0"))
        raise ScriptError("binary file, not a script (it contains NUL bytes)", "give a .yaml, .txt or .md text file",
                          path=where, line=line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ScriptError(f"not UTF-8 text: byte 0x{bad:02x} cannot be decoded", "save the file as UTF-8",
                          path=where, line=_line_of_byte(data, exc.start)) from None


def _line_of_byte(data: bytes, index: int) -> int:
    return _normalise_newlines(data[:index].decode("utf-8", "replace")).count("\n") + 1


def _normalise_newlines(text: str) -> str:
    """Every line break YAML knows (\\r\\n, \\r, NEL, LS, PS) → \\n, so all line counts agree."""
    return re.sub("\r\n|[\r\x85\u2028\u2029]", "\n", text)


def _check_overrides(vars: Mapping[str, str] | None, path: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in (vars or {}).items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ScriptError(f"--var {name!r} is not a placeholder name",
                              "names are letters, digits and _, not starting with a digit: --var name=Ana", path=path)
        result[name] = str(value)
    return result


def _suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def _short(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _before(line: str, end: int, limit: int = 40) -> str:
    """The text up to and including `line[end]`, cut at the left to `limit` characters."""
    start = max(0, end + 1 - limit)
    return ("…" if start else "") + line[start:end + 1].lstrip()


def _check_total_pauses(script: Script, ctx: _Context) -> None:
    total = 0.0
    for section in script.sections:
        for item in section.items:
            if isinstance(item, Pause):
                total += item.min_s * section.repeat
                if total > MAX_DURATION_S:
                    raise ctx.error(f"the pauses add up to more than 12h by this one ({format_duration(total)} so far)",
                                    "shorten the pauses or the repeats; a track is at most 12h", item.line)


# --------------------------------------------------------------------------------------------
# Text → items: markers, placeholders, speech


def _scan(lines: Iterable[tuple[int, str]], ctx: _Context) -> list[Item]:
    """Turn numbered lines into items. Blank lines end a paragraph (a separate Speech).

    Whitespace in speech folds to single spaces; text with no letter or digit (a `.` left after
    a marker) is dropped.
    """
    items: list[Item] = []
    parts: list[str] = []
    start_line: list[int] = []

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if any(char.isalnum() for char in text):  # punctuation left beside a marker is not speech
            items.append(Speech(text, start_line[0]))
        parts.clear()
        start_line.clear()

    def add(piece: str, line: int) -> None:
        if not start_line and piece.strip():
            start_line.append(line)
        parts.append(piece)

    for line_no, line in lines:
        if not line.strip():
            flush()
            continue
        parts.append(" ")
        i, n = 0, len(line)
        while i < n:
            char = line[i]
            if char == "[":
                close, reopen = line.find("]", i + 1), line.find("[", i + 1)
                if close < 0 or 0 <= reopen < close:
                    stop = reopen if 0 <= reopen < (close if close >= 0 else n) else n
                    raise ctx.error(f"unclosed marker {_short(line[i:stop])}",
                                    "close it with ] on the same line; square brackets are only for markers such as [pause 5s]",
                                    line_no)
                flush()
                items.append(_marker(line[i:close + 1], line_no, ctx))
                i = close + 1
            elif char == "]":
                raise ctx.error(f"']' without a matching '[' in {_before(line, i)!r}",
                                "remove it; square brackets are only for markers such as [pause 5s]", line_no)
            elif char == "<" and _BREAK_START.match(line, i):
                flush()
                pause, i = _ssml_break(line, i, line_no, ctx)
                items.append(pause)
            elif char == "{":
                if line.startswith("{{", i):
                    add("{", line_no)
                    i += 2
                    continue
                match = _PLACEHOLDER.match(line, i)
                if not match:
                    raise ctx.error(f"'{{' that starts no placeholder in {_short(line[i:], 24)!r}", _PLACEHOLDER_HINT, line_no)
                add(_fill(match.group(1), line_no, ctx), line_no)
                i = match.end()
            elif char == "}":
                if not line.startswith("}}", i):
                    raise ctx.error(f"'}}' without a matching '{{' in {_before(line, i)!r}", _PLACEHOLDER_HINT, line_no)
                add("}", line_no)
                i += 2
            else:
                match = _PLAIN_RUN.match(line, i)
                add(match.group(), line_no)
                i = match.end()
    flush()
    return items


def _fill(name: str, line: int, ctx: _Context) -> str:
    if name in ctx.vars:
        return ctx.vars[name]
    hint = f"give it a value with --var {name}=VALUE or a `vars:` entry ({name}: …)"
    close = next((known for known in ctx.vars if known.lower() == name.lower()), None) or _suggest(name, ctx.vars)
    if close:
        hint = f"did you mean {{{close}}}? Or {hint}"
    raise ctx.error(f"undefined placeholder {{{name}}}", hint, line)


def _marker(marker: str, line: int, ctx: _Context) -> Item:
    """Parse one `[…]` marker (brackets included)."""
    inner = marker[1:-1]
    if "{" in inner or "}" in inner:
        raise ctx.error(f"placeholder inside marker {marker}", "markers take their values as written, e.g. [pause 5s]", line)
    match = _MARKER_WORD.fullmatch(inner.strip())
    word = match.group(1).lower() if match else None
    arg = (match.group(2) or "").strip() if match else ""
    if word == "bell":
        if arg:
            raise ctx.error(f"{marker} takes no value", "write [bell]; write it twice for two strikes", line)
        return Bell(line)
    if word == "breath":
        if not arg:
            return Pause(BREATH_S, BREATH_S, line, "breath")
        if not re.fullmatch(r"[0-9]{1,3}", arg) or not 1 <= int(arg) <= MAX_BREATHS:
            raise ctx.error(f"{marker}: the number of breaths must be a whole number from 1 to {MAX_BREATHS}, not {arg!r}",
                            "write [breath] for one breath or [breath 3] for three", line)
        return Pause(int(arg) * BREATH_S, int(arg) * BREATH_S, line, "breath")
    if word == "pause":
        return _pause(marker, arg, line, ctx)
    raise ctx.error(f"unknown marker {marker}", _unknown_marker_hint(inner), line)


def _unknown_marker_hint(inner: str) -> str:
    match = re.match(r"([A-Za-z]*)\s*(.*)", inner.strip(), re.DOTALL)
    word = _suggest(match.group(1).lower(), _MARKER_EXAMPLES) if match.group(1) else None
    if word is None:
        return f"{MARKERS_HINT} (square brackets are only for markers)"
    rest = match.group(2).strip()
    guess = f"[{word} {rest}]" if rest else f"[{word}]"
    try:
        _marker(guess, 1, _Context("", {}))
    except ScriptError:
        guess = _MARKER_EXAMPLES[word]
    return f"did you mean {guess}? {MARKERS_HINT}"


def _duration(text: str, what: str, shown: str, line: int, ctx: _Context) -> float:
    try:
        return parse_duration(text, what=what)
    except LengthError as exc:
        raise ctx.error(f"{shown}: {exc.message}", exc.hint, line) from None


def _pause(marker: str, arg: str, line: int, ctx: _Context) -> Pause:
    ranges = "write [pause 5s], [pause 10s..2m] or [pause 10s..]"
    if not arg:
        raise ctx.error(f"{marker} has no duration", ranges, line)
    parts = arg.replace("…", "..").split("..")
    if len(parts) > 2:
        raise ctx.error(f"{marker} has more than one '..'", ranges, line)
    if not parts[0].strip():
        raise ctx.error(f"{marker} has no shortest time before '..'", "write [pause 0s..2m] for up to 2m", line)
    low = _duration(parts[0], "pause", marker, line, ctx)
    if len(parts) == 1:
        return Pause(low, low, line, "pause")
    if not parts[1].strip():
        return Pause(low, None, line, "pause")
    high = _duration(parts[1], "pause", marker, line, ctx)
    if high < low:
        raise ctx.error(f"{marker}: the range runs backwards ({parts[0].strip()} is longer than {parts[1].strip()})",
                        f"write the shorter time first: [pause {parts[1].strip()}..{parts[0].strip()}]", line)
    return Pause(low, high, line, "pause")


def _ssml_break(line: str, start: int, line_no: int, ctx: _Context) -> tuple[Pause, int]:
    """Parse `<break time="…"/>` at `start`; return the pause and the index after the tag."""
    match = _BREAK.match(line, start)
    if not match:
        end = line.find(">", start)
        shown = _short(line[start:end + 1] if end >= 0 else line[start:], 50)
        raise ctx.error(f"unsupported SSML {shown}", 'write <break time="3s"/> or <break time="500ms"/>', line_no)
    value = match.group(1) if match.group(1) is not None else match.group(2)
    if "{" in value or "}" in value:
        raise ctx.error(f"placeholder inside marker {match.group()}", 'write the time itself, e.g. <break time="3s"/>', line_no)
    seconds = _duration(value, "break time", match.group(), line_no, ctx)
    return Pause(seconds, seconds, line_no, "break"), match.end()


# --------------------------------------------------------------------------------------------
# YAML

_TAG = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT, _STR, _MERGE = (_TAG + t for t in ("null", "bool", "int", "float", "str", "merge"))
_YAML_HINT = ("check the indentation and quoting on this line: text containing ': ' or ' #', or starting with "
              "[, {, *, &, ! or a quote, must be quoted or written as a block (text: |)")


class _Yaml:
    """Reads settings from YAML nodes, knowing each node's line in the file (`offset`: lines before the YAML)."""

    def __init__(self, ctx: _Context, source: str, offset: int = 0):
        self.ctx = ctx
        self.source = source
        self.offset = offset

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
                hint = ("a value that starts with [ or { is read as a YAML list or mapping: write `text: |` "
                        "and put the text on the next lines, indented")
            shown = f" in {_short(text, 60)!r}" if text.strip() else ""
            raise self.ctx.error(f"YAML syntax error ({problem}){shown}", hint,
                                 mark.line + 1 + self.offset if mark else None) from None
        except yaml.reader.ReaderError as exc:
            line = self.source.count("\n", 0, max(0, exc.position)) + 1 + self.offset
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            raise self.ctx.error(f"control character U+{code:04X} is not allowed in YAML", "delete it", line) from None
        except yaml.YAMLError as exc:  # pragma: no cover - every pyyaml error is one of the above
            raise self.ctx.error(f"YAML error: {exc}", _YAML_HINT) from None

    def mapping(self, node: yaml.MappingNode, known: tuple[str, ...], what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The mapping's keys (checked against `known`) → (key node, value node). Merge keys are applied."""
        seen: set[str] = set()
        for key, _ in node.value:
            if key.tag == _MERGE:
                continue
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(f"a {what} key must be a name, not a {_kind(key)}", f"the keys are {', '.join(known)}", key)
            if key.value not in known:
                close = _suggest(key.value, known)
                hint = f"did you mean {close!r}?" if close else f"the {what} keys are {', '.join(known)}"
                raise self.error(f"unknown key {_short(key.value)!r}", hint, key)
            if key.value in seen:
                raise self.error(f"duplicate key {key.value!r}", "give each key once", key)
            seen.add(key.value)
        try:
            SafeConstructor().flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            raise self.error(f"bad merge (<<): {exc.problem}", "merge only mappings, e.g. <<: *defaults", node) from None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value not in known:
                name = key.value if isinstance(key, yaml.ScalarNode) else _kind(key)
                raise self.error(f"unknown key {_short(str(name))!r} (from a merge)", f"the {what} keys are {', '.join(known)}", key)
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
        raise self.error(f"{key} must be true or false, not {_describe(node)}", f"write {key}: true or {key}: false", node)

    def number(self, key: str, node: yaml.Node, low: float, high: float, *, whole: bool, hint: str) -> float | int:
        expected = f"{'a whole number' if whole else 'a number'} from {low} to {high}"
        value: float | int | None = None
        if isinstance(node, yaml.ScalarNode) and node.tag in ((_INT,) if whole else (_INT, _FLOAT)):
            constructor = SafeConstructor()
            try:
                value = constructor.construct_yaml_int(node) if node.tag == _INT else constructor.construct_yaml_float(node)
            except (ValueError, OverflowError):
                value = None
        if value is None or not (low <= value <= high):
            raise self.error(f"{key} must be {expected}, not {_describe(node)}", hint, node)
        return value

    def text_lines(self, node: yaml.ScalarNode) -> list[tuple[int, str]]:
        """A text scalar as numbered source lines, so markers report the line they are on in the file.

        Block (`|`, `>`), plain and quoted scalars are read from the source when that holds the
        same words as YAML's value (it does unless escapes were used); otherwise from the value.
        """
        value = node.value
        first = self.line(node)
        raw = self.source[node.start_mark.index:node.end_mark.index]
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
                raise self.error(f"background: {exc.problem}", "write plain values, e.g. {kind: drone, gain_db: -20}",
                                 node) from None
            except (ValueError, TypeError, OverflowError) as exc:
                raise self.error(f"background: {exc}", "write plain values, e.g. {kind: drone, gain_db: -20}", node) from None
        raise self.error(f"background must be a name or a mapping, not a {_kind(node)}",
                         "write background: drone, or a mapping such as {kind: drone, gain_db: -20}", node)

    def settings(self, fields: dict[str, tuple[yaml.Node, yaml.Node]]) -> dict[str, Any]:
        """Every key but `sections` → Script keyword arguments; also sets the context's vars."""
        out: dict[str, Any] = {}
        if "title" in fields:
            title = self.string("title", fields["title"][1])
            if title is not None:
                title = " ".join(title.split())
                if not title:
                    raise self.error("title is empty", "write title: followed by the practice's name", fields["title"][1])
                out["title"] = title
        for key in ("author", "description", "language", "voice"):
            if key in fields:
                value = self.string(key, fields[key][1])
                out[key] = (value.strip() or None) if value is not None else None
        if "voice" in fields:
            out["voice_line"] = self.line(fields["voice"][1])
        if "rate" in fields:
            out["rate_wpm"] = float(self.number("rate", fields["rate"][1], *RATE_WPM_RANGE, whole=False,
                                                hint="give words per minute, e.g. rate: 150"))
        if "pitch" in fields:
            out["pitch"] = self.number("pitch", fields["pitch"][1], *PITCH_RANGE, whole=True,
                                       hint="50 is normal, e.g. pitch: 50")
        if "length" in fields:
            out["length_s"] = self.length(fields["length"][1])
        if "background" in fields:
            node = fields["background"][1]
            out["background"] = self.background(node)
            out["background_line"] = self.line(node)
        if "bells" in fields:
            node = fields["bells"][1]
            if not isinstance(node, yaml.MappingNode):
                raise self.error(f"bells must be a mapping, not {_describe(node)}", "write bells: {start: true, end: true}", node)
            bells = self.mapping(node, BELL_KEYS, "bells")
            for key in BELL_KEYS:
                if key in bells:
                    out[f"bells_{key}"] = self.boolean(f"bells.{key}", bells[key][1])
        defaults: dict[str, str] = {}
        if "vars" in fields:
            defaults = self.vars(fields["vars"][1])
        self.ctx.vars = {**defaults, **self.ctx.overrides}
        return out

    def length(self, node: yaml.Node) -> float:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL:
            raise self.error(f"length must be a duration such as 10m, not {_describe(node)}", "write length: 10m", node)
        text = node.value.strip()
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text):
            number = float(text)
            hint = (f"write {text}s or {int(number) // 60}m" if number >= 60 and number % 60 == 0
                    else f"write {text}s or {text}m")
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
            raise self.error(f"vars must be a mapping of placeholder values, not {_describe(node)}",
                             "write vars: then lines like `  name: friend`", node)
        result: dict[str, str] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or not _NAME.fullmatch(key.value):
                shown = _short(key.value) if isinstance(key, yaml.ScalarNode) else f"a {_kind(key)}"
                raise self.error(f"vars name {shown!r} is not a placeholder name",
                                 "names are letters, digits and _, not starting with a digit", key)
            if key.value in result:
                raise self.error(f"duplicate vars name {key.value!r}", "give each name once", key)
            if not isinstance(value, yaml.ScalarNode):
                raise self.error(f"vars value for {key.value!r} must be text or a number, not a {_kind(value)}",
                                 f"write {key.value}: friend", value)
            if value.tag == _NULL:
                raise self.error(f"vars value for {key.value!r} is empty",
                                 f"give it a value, e.g. {key.value}: friend, or {key.value}: \"\" for nothing", value)
            result[key.value] = value.value
        return result


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "value"


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL:
            return "an empty value"
        return repr(_short(node.value)) if node.tag == _STR else _short(node.value)
    return f"a {_kind(node)}"


def _parse_yaml(text: str, ctx: _Context) -> Script:
    reader = _Yaml(ctx, text)
    root = reader.compose()
    if root is None:
        raise ctx.error("script is empty", _EMPTY_HINTS["yaml"])
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(f"a YAML script must be a mapping of settings, not {_describe(root)}",
                           "start it with `title: …` and a `sections:` list", root)
    fields = reader.mapping(root, TOP_KEYS, "script")
    settings = reader.settings(fields)
    if "title" not in settings:
        raise ctx.error("missing title", "add `title: …` at the top of the script")
    if "sections" not in fields:
        raise ctx.error("missing sections", "add `sections:` with one `- text: …` entry per part of the practice")
    sections = _yaml_sections(reader, fields["sections"][1])
    return Script(path=ctx.path, sections=sections, vars=dict(ctx.vars), **settings)


def _yaml_sections(reader: _Yaml, node: yaml.Node) -> tuple[Section, ...]:
    hint = "write `sections:` then one `- name: …` / `  text: …` entry per section"
    if not isinstance(node, yaml.SequenceNode):
        raise reader.error(f"sections must be a list, not {_describe(node)}", hint, node)
    if not node.value:
        raise reader.error("sections is empty", hint, node)
    sections = []
    for index, entry in enumerate(node.value, 1):
        if not isinstance(entry, yaml.MappingNode):
            raise reader.error(f"section {index} must be a mapping with text:, not {_describe(entry)}", hint, entry)
        fields = reader.mapping(entry, SECTION_KEYS, "section")
        name = reader.string("name", fields["name"][1]) if "name" in fields else None
        name = " ".join((name or "").split()) or f"Section {index}"
        optional = reader.boolean("optional", fields["optional"][1]) if "optional" in fields else False
        repeat = 1
        if "repeat" in fields:
            repeat = reader.number("repeat", fields["repeat"][1], 1, MAX_REPEAT, whole=True, hint="write repeat: 2")
        text_node = fields["text"][1] if "text" in fields else None
        items: list[Item] = []
        if text_node is not None:
            if not isinstance(text_node, yaml.ScalarNode):
                raise reader.error(f"text must be the words to speak, not a {_kind(text_node)}",
                                   "a text starting with [ is read as a YAML list: "
                                   "write `text: |` and the text on the next lines, indented",
                                   text_node)
            if text_node.tag != _NULL:
                items = _scan(reader.text_lines(text_node), reader.ctx)
        if not items:
            raise reader.error(f"section {name!r} has no text", "add `text:` with the words to speak, or remove the section",
                               text_node if text_node is not None else entry)
        sections.append(Section(name, tuple(items), reader.line(entry), optional, repeat))
    return tuple(sections)


# --------------------------------------------------------------------------------------------
# Plain text and Markdown

_HEADING = re.compile(r"[ ]{0,3}(#+)(?:[ \t]+(.*))?")
_RULE = re.compile(r"\s*(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*+]|[0-9]{1,9}[.)])\s+")
_UNDERSCORE = re.compile(r"(?<![\w{])_+|_+(?![\w}])")
_FLAGS = re.compile(r"(.*?) ?\(([^()]*)\)")  # on whitespace-folded text
_FLAG_HINT = "flags are (optional), (repeat 3) and (optional, repeat 3)"


_Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def _split_front_matter(text: str, ctx: _Context, fmt: str) -> tuple[_Fields, _Yaml | None, list[tuple[int, str]]]:
    """Settings from `---` front matter (if the first line is `---`), their reader, and the numbered body lines."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, None, [(k + 1, line) for k, line in enumerate(lines)]
    close = next((k for k in range(1, len(lines)) if lines[k].rstrip() == "---"), None)
    if close is None:
        raise ctx.error("front matter opened with --- is not closed", "add a line with --- after the settings", 1)
    reader = _Yaml(ctx, "\n".join(lines[1:close]), offset=1)
    body = [(k + 1, lines[k]) for k in range(close + 1, len(lines))]
    root = reader.compose()
    if root is None:
        return {}, reader, body
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(f"front matter must be settings (title: …), not {_describe(root)}",
                           "write lines like `title: Evening calm` between the --- lines", root)
    fields = reader.mapping(root, TOP_KEYS, "front matter")
    if "sections" in fields:
        hint = ("start each section with a `## Heading` line" if fmt == "md"
                else "in plain text the words after the front matter are the one section; use .md or .yaml for several")
        raise reader.error("sections are not allowed in front matter", hint, fields["sections"][0])
    return fields, reader, body


def _parse_prose(text: str, ctx: _Context, fmt: str) -> Script:
    fields, reader, body = _split_front_matter(text, ctx, fmt)
    settings = reader.settings(fields) if reader is not None else {}
    if fmt == "txt":
        if "title" not in settings:
            raise ctx.error("missing title", "add `title: …` to the front matter (between --- lines at the top)")
        items = _scan(body, ctx)
        if not items:
            raise ctx.error("script has no text", "write the words to speak after the front matter")
        sections = (Section(settings["title"], tuple(items), items[0].line),)
    else:
        title, sections = _markdown_sections(body, ctx)
        if "title" not in settings:
            if title is None:
                raise ctx.error("missing title", "add `title: …` to the front matter or a `# Title` line")
            settings["title"] = title
        if not sections:
            raise ctx.error("script has no text", "write the words to speak below the title; start sections with `## Heading` lines")
    return Script(path=ctx.path, sections=sections, vars=dict(ctx.vars), **settings)


def _strip_comments(body: list[tuple[int, str]], ctx: _Context) -> list[tuple[int, str]]:
    """Remove `<!-- … -->` (which may span lines), keeping every line's number."""
    if not body:
        return body
    first = body[0][0]
    text = "\n".join(line for _, line in body)
    kept, start = [], 0
    while (opening := text.find("<!--", start)) >= 0:
        closing = text.find("-->", opening + 4)
        if closing < 0:
            raise ctx.error("unclosed comment <!--", "close it with -->", first + text.count("\n", 0, opening))
        kept += [text[start:opening], " ", "\n" * text.count("\n", opening, closing)]
        start = closing + 3
    text = "".join(kept) + text[start:]
    return [(first + k, line) for k, line in enumerate(text.split("\n"))]


def _clean_inline(text: str) -> str:
    """Markdown emphasis out: every `*`, and `_` at the edges of words (`{first_name}` keeps its `_`)."""
    return _UNDERSCORE.sub("", text.replace("*", ""))


@dataclass
class _MarkdownPart:
    """The lines under one `## Heading` (or before the first: the "Opening", `line` None)."""

    name: str
    line: int | None
    optional: bool = False
    repeat: int = 1
    lines: list[tuple[int, str]] = field(default_factory=list)


def _heading_text(text: str) -> str:
    """Strip an ATX heading's closing `#`s (`## Title ##`)."""
    text = text.strip()
    bare = text.rstrip("#")
    return bare.strip() if bare != text and (not bare or bare[-1] in " \t") else text


def _markdown_sections(body: list[tuple[int, str]], ctx: _Context) -> tuple[str | None, tuple[Section, ...]]:
    """The `# Title` (or None) and the sections: the Opening (if it has items), then one per `## Heading`."""
    title: str | None = None
    parts = [_MarkdownPart("Opening", None)]
    for line_no, line in _strip_comments(body, ctx):
        heading = _HEADING.fullmatch(line)
        if heading:
            level, text = len(heading.group(1)), _heading_text(heading.group(2) or "")
            if level == 2:
                name, optional, repeat = _heading(text, line_no, ctx)
                parts.append(_MarkdownPart(name or f"Section {len(parts)}", line_no, optional, repeat))
                continue
            if level == 1 and title is None:
                title = " ".join(_clean_inline(text).split()) or None
            parts[-1].lines.append((line_no, ""))  # other headings are for the reader: not spoken
            continue
        if _RULE.fullmatch(line):
            parts[-1].lines.append((line_no, ""))
            continue
        cleaned = _BULLET.sub("", _QUOTE.sub("", line, count=1), count=1)
        parts[-1].lines.append((line_no, _clean_inline(cleaned)))
    sections = []
    for part in parts:
        items = _scan(part.lines, ctx)
        if not items:
            if part.line is not None:
                raise ctx.error(f"section {part.name!r} has no text", "write the words to speak under the heading, or remove it",
                                part.line)
            continue
        sections.append(Section(part.name, tuple(items), part.line or items[0].line, part.optional, part.repeat))
    return title, tuple(sections)


def _heading(text: str, line: int, ctx: _Context) -> tuple[str, bool, int]:
    """`Name (optional, repeat 3)` → (name, optional, repeat). Parentheses that hold no flags stay in the name."""
    text = " ".join(_clean_inline(text).split())
    match = _FLAGS.fullmatch(text)
    if not match:
        return text, False, 1
    flags = [part.strip() for part in re.split(r"[,;]", match.group(2))]
    words = [(part.split() or [""])[0].lower() for part in flags]
    if not any(_suggest(word, ("optional", "repeat"), 0.75) for word in words):
        return text, False, 1
    optional, repeat = False, None
    for part, word in zip(flags, words):
        shown = f"flag {part!r} in '## {text}'"
        if word == "optional" and part.lower() == "optional":
            optional = True
        elif word == "repeat":
            count = part[len(word):].strip()
            if not re.fullmatch(r"[0-9]{1,3}", count) or not 1 <= int(count) <= MAX_REPEAT:
                raise ctx.error(f"{shown}: repeat needs a whole number from 1 to {MAX_REPEAT}", "write (repeat 3)", line)
            if repeat is not None:
                raise ctx.error(f"{shown}: repeat is given twice", "give repeat once", line)
            repeat = int(count)
        else:
            close = _suggest(word, ("optional", "repeat"))
            hint = f"did you mean {close!r}? {_FLAG_HINT}" if close else _FLAG_HINT
            raise ctx.error(f"unknown section {shown}", hint, line)
    return match.group(1).strip(), optional, repeat or 1
