"""Other tools' scripts: audio_program_generator's `phrase;seconds` lines and Meditation-Generator's text.

audio_program_generator (apg, jeffwright13/audio_program_generator): each line is a phrase, a
semicolon and the seconds of silence after it (`Breathe in;5`; 0 is no silence; older files use a
comma). Meditation-Generator (salmansoltaniyan/Meditation-Generator): plain text with `[pause:X]`
markers (any case, spaces around the colon, whole seconds), often Markdown-escaped as `\\[PAUSE:5]`.
Attune's own reader takes `[pause:X]` as it is (`attune.script.text`); a whole `.txt` file of apg
lines is read as apg's format, with a note (`read_apg_body`).

`import_script` turns either into an Attune script to edit. Each line stays on its own line, so an
error found while importing names the line of the file imported.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ScriptError, combine
from .model import ScriptWarning
from .spellings import MEDITATION_GENERATOR_PAUSE
from .text import Context, scan

#: `attune import --from` names.
IMPORT_FORMATS = ("apg", "meditation-generator")

_APG_LINE = re.compile(r"\s*([^;]*?)\s*;\s*(\d+)\s*")
_APG_COMMA_LINE = re.compile(r"\s*(.*?)\s*,\s*(\d+)\s*")
#: apg speaks letters, digits and spaces only: Attune keeps punctuation, but not its markup.
_MARKUP = re.compile(r"[\[\]{}<>\\]")
_MG_MARKER = re.compile(r"\\?\[(" + MEDITATION_GENERATOR_PAUSE.pattern + r")\\?\]", re.IGNORECASE)

APG_NAME = "audio_program_generator's `phrase;seconds` format"


def is_apg(lines: list[tuple[int, str]]) -> bool:
    """A whole file of `phrase;N` lines (blank lines aside), with words in the phrases."""
    written = [line for _, line in lines if line.strip()]
    return bool(written) and all((m := _APG_LINE.fullmatch(line)) and any(c.isalpha() for c in m.group(1)) for line in written)


def apg_lines(lines: list[tuple[int, str]], ctx: Context, *, comma: bool = False) -> list[tuple[int, str]]:
    """Each `phrase;N` line as `phrase [pause Ns]`, on the same line; a line that is not one is an error
    at its line (`comma`: apg's older `phrase, N` lines are accepted too)."""
    out = []
    for number, line in lines:
        if not line.strip():
            out.append((number, line))
            continue
        match = _APG_LINE.fullmatch(line) or (_APG_COMMA_LINE.fullmatch(line) if comma else None)
        if match is None or not any(c.isalnum() for c in match.group(1)):
            ctx.report(
                ctx.error(
                    f"{line.strip()[:40]!r} is not a `phrase;seconds` line",
                    "write the words, a semicolon and the seconds of silence after them, e.g. `Breathe in;5`",
                    number,
                )
            )
            continue
        phrase = " ".join(_MARKUP.sub(" ", match.group(1)).split())
        out.append((number, f"{phrase} [pause {int(match.group(2))}s]"))
    return out


def read_apg_body(body: list[tuple[int, str]], ctx: Context) -> list[tuple[int, str]]:
    """A plain-text body that is a whole file of apg lines, as Attune text (same lines), with a note; else
    the body, with a warning at each line that looks like one (its number would be spoken)."""
    if not is_apg(body):
        for number, line in body:
            match = _APG_LINE.fullmatch(line)
            if match and any(c.isalpha() for c in match.group(1)):
                ctx.warn(
                    f"{line.strip()[:40]!r} looks like an audio_program_generator `phrase;seconds` line, but the file is not all such lines, so {match.group(2)!r} will be spoken",
                    f"write {match.group(1)} [pause {int(match.group(2))}s]",
                    number,
                )
        return body
    count = sum(1 for _, line in body if line.strip())
    ctx.notes.append(
        ScriptWarning(
            f"read as {APG_NAME} ({count} line{'s' if count != 1 else ''}): each phrase is spoken, then silent for its seconds",
            f"`attune import {ctx.path} --from apg` writes it as an Attune script to edit",
            ctx.path,
            0,
        )
    )
    return apg_lines(body, ctx)


def meditation_generator_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`[pause:3]` and `\\[PAUSE:5]` as `[pause 3s]`, each line in place."""
    return [(number, _MG_MARKER.sub(lambda m: f"[pause {int(MEDITATION_GENERATOR_PAUSE.fullmatch(m.group(1)).group(1))}s]", line)) for number, line in lines]  # type: ignore[union-attr]


def import_script(source: Path, fmt: str, text: str) -> str:
    """The Attune script (plain text with front matter) for `text`, read from `source` in format `fmt`.

    Raises ScriptError with every problem at its line of `source`."""
    if fmt not in IMPORT_FORMATS:
        raise ScriptError(f"unknown format {fmt!r} to import", f"use one of {', '.join(IMPORT_FORMATS)}", path=str(source))
    ctx = Context(str(source), {})
    lines = list(enumerate(text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff").split("\n"), start=1))
    if fmt == "apg":
        body = apg_lines(lines, ctx, comma=True)
        what = f"{APG_NAME}: each line's seconds are now a [pause Ns] after it"
    else:
        body = meditation_generator_lines(lines)
        what = "Meditation-Generator's text: each [pause:N] is now [pause Ns]"
    items = scan(body, ctx) if not ctx.errors else []
    if not ctx.errors and not items:
        ctx.report(ctx.error("nothing to speak in this file", "give the file with the practice's words"))
    if ctx.errors:
        raise combine(list(ctx.errors), str(source))
    while body and not body[-1][1].strip():
        body.pop()
    title = " ".join(re.sub(r"[-_.]+", " ", source.stem).split()) or "Imported practice"
    header = [
        "---",
        f"title: {_yaml_text(title[0].upper() + title[1:])}",
        f"# Imported by `attune import` from {source.name} ({what}).",
        "# Edit the words and pauses below, then `attune check` this file. Settings you may add here:",
        "#   length: 10m                  # the track's length; give pauses a range to stretch, e.g. [pause 10s..1m]",
        "#   voice: en-us+f3              # `attune voices` lists them; rate: 130 (words per minute)",
        "#   background: soft-rain.ogg    # or drone, pink-noise; `attune library` lists the bundled sounds",
        "#   bells: {start: true, end: true}",
        "#   interval_bells: 10m          # soft bells inside long pauses",
        "---",
    ]
    return "\n".join(header + [line for _, line in body]) + "\n"


def _yaml_text(text: str) -> str:
    """`text` as a YAML scalar: plain when that is safe, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ,.'()!?-]*", text) and ": " not in text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
