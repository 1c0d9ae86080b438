"""Reading a script file: the suffix picks the reader (YAML, plain text, Markdown).

`load_script(path)` reads a file and `parse_script_text(text, fmt=…)` parses text; both return a
`Script` or raise `ScriptError` with the file, the line and a fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..durations import MAX_DURATION_S, format_duration
from ..errors import ScriptError, combine
from .model import Pause, Script
from .prose import parse_prose
from .text import EMPTY_HINTS, PLACEHOLDER_NAME, Context
from .yaml_reader import parse_yaml

#: The largest script file `load_script` reads.
MAX_SCRIPT_BYTES = 1_000_000

#: File suffix → format.
SUFFIX_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".txt": "txt", ".md": "md"}


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
        raise ScriptError(f"unsupported script type ({shown})", "name the file .yaml or .yml (YAML), .txt (plain text) or .md (Markdown)", path=where)
    try:
        size = file.stat().st_size
        if size <= MAX_SCRIPT_BYTES:
            with file.open("rb") as handle:
                data = handle.read(MAX_SCRIPT_BYTES + 1)
                size = len(data)
    except OSError as exc:
        raise ScriptError(f"cannot read the script: {exc.strerror or exc}", "check that the file is readable", path=where) from None
    if size > MAX_SCRIPT_BYTES:
        raise ScriptError(f"script is {size:,} bytes, over the {MAX_SCRIPT_BYTES:,}-byte limit", "split it into shorter scripts", path=where)
    return parse_script_text(_decode(data, where), path=where, fmt=SUFFIX_FORMATS[suffix], vars=vars)


def parse_script_text(text: str, *, path: str = "<script>", fmt: str = "yaml", vars: Mapping[str, str] | None = None) -> Script:
    """Parse script text of format "yaml", "txt" or "md"; `vars` override the script's own `vars`."""
    fmt = {"yml": "yaml"}.get(fmt, fmt)
    if fmt not in ("yaml", "txt", "md"):
        raise ScriptError(f"unknown script format {fmt!r}", "use 'yaml', 'txt' or 'md'", path=path)
    ctx = Context(path, _check_overrides(vars, path))
    text = _normalise_newlines(text.removeprefix("\ufeff"))
    if "\0" in text:
        raise ctx.error(
            "the script contains a NUL character",
            "this looks like a binary file; save the script as plain UTF-8 text",
            text.count("\n", 0, text.index("\0")) + 1,
        )
    if not text.strip():
        raise ctx.error("script is empty", EMPTY_HINTS[fmt])
    try:
        script = parse_yaml(text, ctx) if fmt == "yaml" else parse_prose(text, ctx, fmt)
    except RecursionError:  # pyyaml composes nested lists and merges recursively
        ctx.report(ctx.error("the YAML is nested too deeply", "a script needs only a few levels of nesting"))
    except ScriptError as exc:  # what stopped the reading, after what was found before it
        if not any(exc is known for known in ctx.errors):
            ctx.report(exc)
    if not ctx.errors:
        try:
            _check_total_pauses(script, ctx)
        except ScriptError as exc:
            ctx.report(exc)
    if ctx.errors:
        failure = combine(list(ctx.errors), path)
        failure.warnings = tuple(str(w) for w in sorted(ctx.warnings, key=lambda w: w.line or 0))
        raise failure from None
    return replace(script, warnings=tuple(ctx.warnings), notes=tuple(ctx.notes)) if ctx.warnings or ctx.notes else script


def _decode(data: bytes, where: str) -> str:
    """UTF-8 bytes → text, refusing UTF-16, binary files and bad bytes with their line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScriptError("script is UTF-16 text", "save it as UTF-8", path=where)
    if b"\0" in data:
        line = _line_of_byte(data, data.index(b"\0"))
        raise ScriptError("binary file, not a script (it contains NUL bytes)", "give a .yaml, .txt or .md text file", path=where, line=line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ScriptError(
            f"not UTF-8 text: byte 0x{bad:02x} cannot be decoded", "save the file as UTF-8", path=where, line=_line_of_byte(data, exc.start)
        ) from None


def _line_of_byte(data: bytes, index: int) -> int:
    return _normalise_newlines(data[:index].decode("utf-8", "replace")).count("\n") + 1


def _normalise_newlines(text: str) -> str:
    """Every line break YAML knows (\\r\\n, \\r, NEL, LS, PS) → \\n, so all line counts agree."""
    return re.sub("\r\n|[\r\x85\u2028\u2029]", "\n", text)


def _check_overrides(vars: Mapping[str, str] | None, path: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in (vars or {}).items():
        if not isinstance(name, str) or not PLACEHOLDER_NAME.fullmatch(name):
            raise ScriptError(
                f"--var {name!r} is not a placeholder name", "names are letters, digits and _, not starting with a digit: --var name=Ana", path=path
            )
        result[name] = str(value)
    return result


def _check_total_pauses(script: Script, ctx: Context) -> None:
    total = 0.0
    for section in script.sections:
        for item in section.items:
            if isinstance(item, Pause):
                total += item.min_s * section.repeat
                if total > MAX_DURATION_S:
                    raise ctx.error(
                        f"the pauses add up to more than 12h by this one ({format_duration(total)} so far)",
                        "shorten the pauses or the repeats; a track is at most 12h",
                        item.line,
                    )
