"""Plain text and Markdown scripts: optional `---` front matter (the YAML keys but `sections`), then the words.

A plain-text file is one section, named after the title. In Markdown, `## Heading` starts a section,
`(optional)`, `(repeat 3)` or `(optional, repeat 2)` after it set its flags, a `# Title` line gives
the title, `<!-- notes -->` are not spoken, and emphasis, bullets and quote markers are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import LengthError, ScriptError, SettingsError
from ..settings import Background, Recording, TrackSettings
from .imports import read_apg_body
from .model import MAX_REPEAT, Script, Section
from .spellings import interval_seconds
from .text import Context, scan, suggest
from .yaml_reader import TOP_KEYS, YamlReader, describe

_HEADING = re.compile(r"[ ]{0,3}(#+)(?:[ \t]+(.*))?")
_RULE = re.compile(r"\s*(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_BULLET = re.compile(r"^\s*(?:[-*+]|[0-9]{1,9}[.)])\s+")
_UNDERSCORE = re.compile(r"(?<![\w{])_+|_+(?![\w}])")
_FLAGS = re.compile(r"(.*?) ?\(([^()]*)\)")  # on whitespace-folded text
_FLAG_HINT = "flags are (optional), (repeat 3), (voice en-gb), (rate 110), (engine pyttsx3), (background rain.ogg), (background_db -24), (interval_bells 10m), (recording take.m4a), comma-separated"


_Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def _split_front_matter(text: str, ctx: Context, fmt: str) -> tuple[_Fields, YamlReader | None, list[tuple[int, str]]]:
    """Settings from `---` front matter (if the first line is `---`), their reader, and the numbered body lines."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, None, [(k + 1, line) for k, line in enumerate(lines)]
    close = next((k for k in range(1, len(lines)) if lines[k].rstrip() == "---"), None)
    if close is None:
        raise ctx.error("front matter opened with --- is not closed", "add a line with --- after the settings", 1)
    reader = YamlReader(ctx, "\n".join(lines[1:close]), offset=1)
    body = [(k + 1, lines[k]) for k in range(close + 1, len(lines))]
    root = reader.compose()
    if root is None:
        return {}, reader, body
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(
            f"front matter must be settings (title: …), not {describe(root)}", "write lines like `title: Evening calm` between the --- lines", root
        )
    fields = reader.mapping(root, TOP_KEYS, "front matter")
    if "sections" in fields:
        hint = (
            "start each section with a `## Heading` line"
            if fmt == "md"
            else "in plain text the words after the front matter are the one section; use .md or .yaml for several"
        )
        raise reader.error("sections are not allowed in front matter", hint, fields["sections"][0])
    return fields, reader, body


def title_from_file_name(path: str) -> str | None:
    """`morning-note.txt` → "Morning note": the title of a script that gives none."""
    words = " ".join(re.sub(r"[-_.]+", " ", Path(path).stem).split())
    if not words or not any(char.isalnum() for char in words) or path.startswith("<"):
        return None
    return words[0].upper() + words[1:]


def parse_prose(text: str, ctx: Context, fmt: str) -> Script:
    fields, reader, body = _split_front_matter(text, ctx, fmt)
    settings = reader.settings(fields) if reader is not None else {}
    title_failed = reader is not None and reader.title_failed
    if fmt == "txt":
        if reader is None:  # a bare text file may be another tool's: apg's `phrase;seconds` lines
            body = read_apg_body(body, ctx)
        items = scan(body, ctx)
        if "title" not in settings and not title_failed:
            # A bare text file is a script: with no title anywhere, the file name gives it.
            title = title_from_file_name(ctx.path)
            if title is None:
                ctx.report(ctx.error("missing title", "add `title: …` to the front matter (between --- lines at the top)"))
            else:
                settings["title"] = title
        if not items and not ctx.errors:
            raise ctx.error("script has no text", "write the words to speak after the front matter")
        if ctx.errors:
            raise ctx.errors[0]  # every error is in ctx: load_script reports them all
        sections: tuple[Section, ...] = (Section(settings["title"], tuple(items), items[0].line),)
    else:
        title, sections = _markdown_sections(body, ctx)
        if "title" not in settings and not title_failed:
            title = title or title_from_file_name(ctx.path)
            if title is None:
                ctx.report(ctx.error("missing title", "add `title: …` to the front matter or a `# Title` line"))
            else:
                settings["title"] = title
        if not sections and not ctx.errors:
            raise ctx.error("script has no text", "write the words to speak below the title; start sections with `## Heading` lines")
        if ctx.errors:
            raise ctx.errors[0]
    return Script(path=ctx.path, sections=sections, vars=dict(ctx.vars), **settings)


def _strip_comments(body: list[tuple[int, str]], ctx: Context) -> list[tuple[int, str]]:
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
    shaping: TrackSettings = field(default_factory=TrackSettings)


def _heading_text(text: str) -> str:
    """Strip an ATX heading's closing `#`s (`## Title ##`)."""
    text = text.strip()
    bare = text.rstrip("#")
    return bare.strip() if bare != text and (not bare or bare[-1] in " \t") else text


def _markdown_sections(body: list[tuple[int, str]], ctx: Context) -> tuple[str | None, tuple[Section, ...]]:
    """The `# Title` (or None) and the sections: the Opening (if it has items), then one per `## Heading`."""
    title: str | None = None
    parts = [_MarkdownPart("Opening", None)]
    for line_no, line in _strip_comments(body, ctx):
        heading = _HEADING.fullmatch(line)
        if heading:
            level, text = len(heading.group(1)), _heading_text(heading.group(2) or "")
            if level == 2:
                name, optional, repeat, shaping = _heading(text, line_no, ctx)
                parts.append(_MarkdownPart(name or f"Section {len(parts)}", line_no, optional, repeat, shaping=shaping))
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
        errors_before = len(ctx.errors)
        items = scan(part.lines, ctx)
        if len(ctx.errors) > errors_before:
            continue
        if not items:
            if part.line is not None:
                ctx.report(ctx.error(f"section {part.name!r} has no text", "write the words to speak under the heading, or remove it", part.line))
            continue
        sections.append(Section(part.name, tuple(items), part.line or items[0].line, part.optional, part.repeat, part.shaping))
    return title, tuple(sections)


#: Heading flags: `(optional)`, `(repeat 3)`, and the section's own voice, rate, engine and bed.
_FLAG_WORDS = ("optional", "repeat", "voice", "rate", "engine", "background", "background_db", "interval_bells", "recording")


def _heading(text: str, line: int, ctx: Context) -> tuple[str, bool, int, TrackSettings]:
    """`Name (optional, repeat 3, rate 110)` → (name, optional, repeat, the section's settings).
    Parentheses that hold no flags stay in the name. Each bad flag is recorded (reading goes on)."""
    text = " ".join(_clean_inline(text).split())
    match = _FLAGS.fullmatch(text)
    if not match:
        return text, False, 1, TrackSettings()
    flags = [part.strip() for part in re.split(r"[,;]", match.group(2))]
    words = [(part.split() or [""])[0].lower() for part in flags]
    if not any(suggest(word, _FLAG_WORDS, 0.75) for word in words):
        return text, False, 1, TrackSettings()
    optional, repeat = False, None
    shaping: dict[str, Any] = {}
    for part, word in zip(flags, words):
        shown = f"flag {part!r} in '## {text}'"
        value = part[len(word) :].strip()
        try:
            if word == "optional" and part.lower() == "optional":
                optional = True
            elif word == "repeat":
                if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_REPEAT:
                    raise ctx.error(f"{shown}: repeat needs a whole number from 1 to {MAX_REPEAT}", "write (repeat 3)", line)
                if repeat is not None:
                    raise ctx.error(f"{shown}: repeat is given twice", "give repeat once", line)
                repeat = int(value)
            elif word in _FLAG_WORDS[2:]:
                if word in shaping:
                    raise ctx.error(f"{shown}: {word} is given twice", f"give {word} once", line)
                shaping.update(_shaping_flag(word, value, shown, line, ctx))
            else:
                close = suggest(word, _FLAG_WORDS, 0.7)
                hint = f"did you mean {close!r}? {_FLAG_HINT}" if close else _FLAG_HINT
                raise ctx.error(f"unknown section {shown}", hint, line)
        except ScriptError as exc:
            ctx.report(exc)
    return match.group(1).strip(), optional, repeat or 1, TrackSettings(**shaping)


def _shaping_flag(word: str, value: str, shown: str, line: int, ctx: Context) -> dict[str, Any]:
    """One of a heading's voice/rate/engine/background/background_db flags, checked by TrackSettings."""
    examples = {
        "voice": "(voice en-gb)",
        "rate": "(rate 110)",
        "engine": "(engine pyttsx3)",
        "background": "(background rain.ogg)",
        "background_db": "(background_db -24)",
        "interval_bells": "(interval_bells 10m)",
        "recording": "(recording body-scan.m4a)",
    }
    if not value:
        raise ctx.error(f"{shown}: {word} needs a value", f"write {examples[word]}", line)
    values: dict[str, Any]
    if word in ("rate", "background_db"):
        try:
            number = float(value)
        except ValueError:
            raise ctx.error(f"{shown}: {word} must be a number, not {value!r}", f"write {examples[word]}", line) from None
        values = {"rate_wpm" if word == "rate" else word: number}
    elif word == "background":
        values = {"background": Background(value, base_dir=ctx.base_dir, path=ctx.path, line=line)}
    elif word == "interval_bells":
        try:
            values = {"interval_bells_s": interval_seconds(value)}
        except LengthError as exc:
            raise ctx.error(f"{shown}: {exc.message}", exc.hint, line) from None
    elif word == "recording":
        values = {"recording": Recording(value, base_dir=ctx.base_dir, path=ctx.path, line=line)}
    else:
        values = {word: value}
    try:
        TrackSettings(**values)
    except SettingsError as exc:
        raise ctx.error(f"{shown}: {exc.message}", exc.hint, line) from None
    return values
