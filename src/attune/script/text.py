"""Inline text: markers, placeholders and sentences, the same in every script format.

`scan(lines, ctx)` turns numbered lines of a section into items: `[pause 5s]`, `[pause 10s..2m]`,
`[pause 10s..]`, `[breath]`, `[breath 3]`, `[bell]`, SSML `<break time="3s"/>`, and speech with its
`{name}` placeholders filled (`{{` and `}}` are literal braces). Markers must close on the line they
open; other square-bracket text is an error, except near misses (`(pause 5s)`, `[ pause 5s ]`,
`[pause 5 s]`, an unclosed `[` or `{`), which are spoken and warned about. Every error is recorded and
scanning goes on, so a file's errors are reported together. `split_sentences` cuts speech into the
sentences that are synthesised one by one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..durations import MAX_DURATION_S, format_duration, parse_duration
from ..errors import LengthError, ScriptError
from .model import BREATH_S, MAX_BREATHS, Bell, Item, Pause, ScriptWarning, Speech
from .spellings import LONG_PAUSE_S, MEDITATION_GENERATOR_PAUSE, SHORT_PAUSE_S, compact_duration, interval_seconds, meant_duration

PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLAIN_RUN = re.compile(r"[^\[\]{}<\\]+|<|\\")
_BREAK_START = re.compile(r"<break\b", re.IGNORECASE)
_BREAK = re.compile(r"""<break\s+time\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)')\s*/>""", re.IGNORECASE)
_MARKER_WORD = re.compile(r"([A-Za-z]+)(?:\s+(.*))?", re.DOTALL)

MARKERS_HINT = "Markers are [pause 5s], [pause 10s..2m], [pause 10s..], [short pause], [long pause], [breath], [breath 3], [bell], [bells every 10m]"
_MARKER_EXAMPLES = {"pause": "[pause 5s]", "silence": "[silence 5s]", "breath": "[breath]", "bell": "[bell]", "bells": "[bells every 10m]"}
#: `[silence 30s]` is `[pause 30s]`.
_PAUSE_WORDS = ("pause", "silence")
_PLACEHOLDER_HINT = "write {name} for a placeholder (letters, digits and _), or {{ and }} for literal braces"

EMPTY_HINTS = {
    "yaml": "start it with `title: …` and a `sections:` list",
    "txt": "start it with front matter (---, title: …, ---) and then the words to speak",
    "md": "start it with a `# Title` line and then the words to speak",
}


class Context:
    """Where we are (the path, and the folder relative file names resolve against) and the
    placeholder values in force."""

    def __init__(self, path: str, overrides: dict[str, str], base_dir: Path | None = None):
        self.path = path
        self.overrides = overrides
        self.vars: dict[str, str] = dict(overrides)
        self.base_dir = base_dir if base_dir is not None else Path(path).parent

        #: Errors found so far (reading goes on past each, so that all are reported at once).
        self.errors: list[ScriptError] = []
        self.warnings: list[ScriptWarning] = []
        #: What the reader noticed that is no problem (a file read as another tool's format).
        self.notes: list[ScriptWarning] = []

    def error(self, message: str, hint: str | None, line: int | None = None) -> ScriptError:
        return ScriptError(message, hint, path=self.path, line=line)

    def report(self, exc: ScriptError) -> None:
        """Record an error and go on reading."""
        if exc.path is None:
            exc.path = self.path
        self.errors.append(exc)

    def warn(self, message: str, hint: str, line: int) -> None:
        self.warnings.append(ScriptWarning(message, hint, self.path, line))


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def short(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _before(line: str, end: int, limit: int = 40) -> str:
    """The text up to and including `line[end]`, cut at the left to `limit` characters."""
    start = max(0, end + 1 - limit)
    return ("…" if start else "") + line[start : end + 1].lstrip()


def count_words(text: str) -> int:
    """Words as the planner and the speech checks count them: runs of letters and digits."""
    return len(re.findall(r"\w+", text))


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
        piece = text[start : match.end()].strip()
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


def sentence_lines(pieces: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Every sentence of the (text, line) `pieces`, in order, without repeats, with the line it is on."""
    out: dict[str, int] = {}
    for text, line in pieces:
        for sentence in split_sentences(text):
            out.setdefault(sentence, line)
    return list(out.items())


def _ends_with_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and not text[start - 1].isspace() and dot - start < 8:
        start -= 1
    word = text[start:dot].lstrip("([{\"'“‘«")
    return word.lower() in _ABBREVIATIONS


_ROUND_MARKER = re.compile(r"\(\s*(pause|breath|bell)\b([^()]*)\)", re.IGNORECASE)


def _canonical(word: str, arg: str) -> str:
    """`[pause 5s]` for a near miss of it (durations in Attune's spelling)."""
    arg = " ".join(arg.split())
    low, dots, high = arg.partition("..")
    arg = compact_duration(low) + dots + (compact_duration(high) if high.strip() else "")
    return f"[{word.lower()} {arg}]" if arg else f"[{word.lower()}]"


def _near_miss(marker: str) -> str | None:
    """The marker `marker` (brackets included) was meant to be, when it is a near miss: spaces just
    inside the brackets (`[ pause 5s ]`). None otherwise."""
    inner = marker[1:-1]
    match = _MARKER_WORD.fullmatch(inner.strip())
    if not match or match.group(1).lower() not in _MARKER_EXAMPLES:
        return None
    arg = (match.group(2) or "").strip()
    if inner != inner.strip():
        return _canonical(match.group(1), arg)
    return None


def scan(lines: Iterable[tuple[int, str]], ctx: Context) -> list[Item]:
    """Turn numbered lines into items. Blank lines end a paragraph (a separate Speech).

    Whitespace in speech folds to single spaces; text with no letter or digit (a `.` left after
    a marker) is dropped. Every error is recorded in `ctx` and scanning goes on, so that a file's
    errors are all reported at once; near misses (text that looks like a marker but is not one, and
    will be spoken) are recorded as warnings.
    """
    items: list[Item] = []
    parts: list[str] = []
    start_line: list[int] = []

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if any(char.isalnum() for char in text):  # punctuation left beside a marker is not speech
            try:
                items.append(Speech(text, start_line[0]))
            except ScriptError as exc:  # pragma: no cover - the text has a letter or digit
                ctx.report(exc)
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
        for round_marker in _ROUND_MARKER.finditer(line):
            ctx.warn(
                f"{round_marker.group()} is in round brackets, so it will be spoken",
                f"write {_canonical(round_marker.group(1), round_marker.group(2))} for a marker",
                line_no,
            )
        parts.append(" ")
        i, n = 0, len(line)
        while i < n:
            char = line[i]
            try:
                if char == "\\" and line.startswith("[", i + 1) and line.find("]", i + 2) >= 0:
                    i += 1  # a Markdown-escaped bracket, `\\[PAUSE:5]`: the marker, without the backslash
                    continue
                if char == "[":
                    close, reopen = line.find("]", i + 1), line.find("[", i + 1)
                    if close < 0 or 0 <= reopen < close:
                        stop = reopen if 0 <= reopen < (close if close >= 0 else n) else n
                        ctx.warn(
                            f"unclosed [ in {short(line[i:stop])!r}, so it will be spoken",
                            "close it with ] on the same line for a marker such as [pause 5s], or remove the [",
                            line_no,
                        )
                        i += 1  # the bracket itself is not spoken
                        continue
                    marker = line[i : close + 1]
                    meant = _near_miss(marker)
                    if meant is not None:
                        ctx.warn(f"{marker} is not a marker (spaces), so it will be spoken", f"write {meant}", line_no)
                        add(marker[1:-1], line_no)
                        i = close + 1
                        continue
                    flush()
                    i = close + 1
                    items.append(_marker(marker, line_no, ctx))
                elif char == "]":
                    i += 1
                    raise ctx.error(
                        f"']' without a matching '[' in {_before(line, i - 1)!r}", "remove it; square brackets are only for markers such as [pause 5s]", line_no
                    )
                elif char == "<" and _BREAK_START.match(line, i):
                    flush()
                    end = line.find(">", i)
                    start, i = i, (end + 1 if end >= 0 else n)
                    pause, i = _ssml_break(line, start, line_no, ctx)
                    items.append(pause)
                elif char == "{":
                    if line.startswith("{{", i):
                        add("{", line_no)
                        i += 2
                        continue
                    match = _PLACEHOLDER.match(line, i)
                    if not match:
                        start, i = i, i + 1
                        if "}" not in line[start:]:
                            ctx.warn(
                                f"unclosed {{ in {short(line[start:], 24)!r}, so it will be spoken",
                                "close it with } for a placeholder such as {name}, write {{ for a literal brace, or remove it",
                                line_no,
                            )
                            continue
                        i = line.find("}", start) + 1  # the whole would-be placeholder is the one mistake
                        raise ctx.error(f"'{{' that starts no placeholder in {short(line[start:], 24)!r}", _PLACEHOLDER_HINT, line_no)
                    i = match.end()
                    add(_fill(match.group(1), line_no, ctx), line_no)
                elif char == "}":
                    if not line.startswith("}}", i):
                        i += 1
                        raise ctx.error(f"'}}' without a matching '{{' in {_before(line, i - 1)!r}", _PLACEHOLDER_HINT, line_no)
                    add("}", line_no)
                    i += 2
                else:
                    plain = _PLAIN_RUN.match(line, i)
                    assert plain is not None  # the pattern matches any character that is not a marker start
                    add(plain.group(), line_no)
                    i = plain.end()
            except ScriptError as exc:
                ctx.report(exc)
    flush()
    return _attach_intervals(items, ctx)


@dataclass(frozen=True)
class _Interval:
    """`[bells every 10m]`, before it is attached to the pause beside it."""

    seconds: float
    line: int


def _attach_intervals(items: list, ctx: Context) -> list[Item]:
    """Give each `[bells every …]` to the pause it follows (else the one it comes before)."""
    out: list[Item] = []
    waiting: _Interval | None = None
    for item in items:
        if isinstance(item, _Interval):
            if out and isinstance(out[-1], Pause) and out[-1].interval_s is None:
                out[-1] = _with_interval(out[-1], item, ctx)
            elif waiting is None:
                waiting = item
            else:
                ctx.report(_lonely_interval(waiting, ctx))
                waiting = item
            continue
        if waiting is not None:
            if isinstance(item, Pause):
                item = _with_interval(item, waiting, ctx)
            else:
                ctx.report(_lonely_interval(waiting, ctx))
            waiting = None
        out.append(item)
    if waiting is not None:
        ctx.report(_lonely_interval(waiting, ctx))
    return out


def _with_interval(pause: Pause, interval: _Interval, ctx: Context) -> Pause:
    if pause.max_s is not None and pause.max_s < 2 * 60 + 1:
        ctx.warn(
            f"[bells every …] is on a pause of at most {format_duration(pause.max_s)}, so no bell will ring in it",
            "interval bells keep off the first and last minute of a pause: put it on a long pause, e.g. [pause 20m..] [bells every 5m]",
            interval.line,
        )
    return replace(pause, interval_s=interval.seconds)


def _lonely_interval(interval: _Interval, ctx: Context) -> ScriptError:
    return ctx.error(
        "[bells every …] is not beside a pause",
        "write it right after the pause it rings in, e.g. [pause 30m..] [bells every 10m]; or set interval_bells: 10m for the whole track",
        interval.line,
    )


def _fill(name: str, line: int, ctx: Context) -> str:
    if name in ctx.vars:
        return ctx.vars[name]
    hint = f"give it a value with --var {name}=VALUE or a `vars:` entry ({name}: …)"
    close = next((known for known in ctx.vars if known.lower() == name.lower()), None) or suggest(name, ctx.vars)
    if close:
        hint = f"did you mean {{{close}}}? Or {hint}"
    raise ctx.error(f"undefined placeholder {{{name}}}", hint, line)


def _marker(marker: str, line: int, ctx: Context) -> Item:
    """Parse one `[…]` marker (brackets included)."""
    inner = marker[1:-1].removesuffix("\\")  # `\\[PAUSE:5\\]`, Markdown-escaped
    if "{" in inner or "}" in inner:
        raise ctx.error(f"placeholder inside marker {marker}", "markers take their values as written, e.g. [pause 5s]", line)
    other_tool = MEDITATION_GENERATOR_PAUSE.fullmatch(inner)
    if other_tool:  # Meditation-Generator's `[PAUSE:3]`: whole seconds
        whole = float(other_tool.group(1))
        if whole > MAX_DURATION_S:
            raise ctx.error(f"{marker} is longer than the 12h limit", "use a pause of 12h or less", line)
        return Pause(whole, whole, line, "pause")
    folded = " ".join(inner.split()).lower()
    if folded in ("short pause", "long pause"):
        named = SHORT_PAUSE_S if folded == "short pause" else LONG_PAUSE_S
        return Pause(named, named, line, "pause")
    match = _MARKER_WORD.fullmatch(inner.strip())
    word = match.group(1).lower() if match else None
    arg = (match.group(2) or "").strip() if match else ""
    if word == "bells" and arg.lower().startswith("every"):
        every = arg[5:].strip()
        try:
            seconds = interval_seconds(every, what="interval")
        except LengthError as exc:
            meant = meant_duration(every)
            hint = f"write [bells every {meant.split(' or ')[-1]}]" if meant else "write it like [bells every 10m]"
            if meant is None and "shorter than a minute" in exc.message:
                hint = f"{exc.hint}, e.g. [bells every 5m]"
            raise ctx.error(f"{marker}: {exc.message}", hint, line) from None
        if not seconds:
            raise ctx.error(f"{marker} turns nothing on", "write [bells every 10m], or leave the marker out", line)
        return _Interval(seconds, line)  # type: ignore[return-value]  # attached to its pause by scan
    if word == "bells":
        raise ctx.error(f"unknown marker {marker}", "write [bells every 10m] (in a long pause) for interval bells, or [bell] for one strike", line)
    if word == "bell":
        if arg:
            raise ctx.error(f"{marker} takes no value", "write [bell]; write it twice for two strikes", line)
        return Bell(line)
    if word == "breath":
        if not arg:
            return Pause(BREATH_S, BREATH_S, line, "breath")
        if not re.fullmatch(r"[0-9]{1,3}", arg) or not 1 <= int(arg) <= MAX_BREATHS:
            raise ctx.error(
                f"{marker}: the number of breaths must be a whole number from 1 to {MAX_BREATHS}, not {arg!r}",
                "write [breath] for one breath or [breath 3] for three",
                line,
            )
        return Pause(int(arg) * BREATH_S, int(arg) * BREATH_S, line, "breath")
    if word in _PAUSE_WORDS:
        return _pause(marker, arg, line, ctx)
    raise ctx.error(f"unknown marker {marker}", _unknown_marker_hint(inner), line)


def _unknown_marker_hint(inner: str) -> str:
    match = re.fullmatch(r"([A-Za-z]*)\s*(.*)", inner.strip(), re.DOTALL)
    assert match is not None  # both groups match empty text
    word = suggest(match.group(1).lower(), [w for w in _MARKER_EXAMPLES if w != "silence"]) if match.group(1) else None
    if word is None:
        return f"{MARKERS_HINT} (square brackets are only for markers)"
    rest = match.group(2).strip()
    guess = f"[{word} {rest}]" if rest else f"[{word}]"
    try:
        _marker(guess, 1, Context("", {}))
    except ScriptError:
        meant = meant_duration(rest) if word in _PAUSE_WORDS else None
        guess = " or ".join(f"[{word} {option}]" for option in meant.split(" or ")) if meant else _MARKER_EXAMPLES[word]
    return f"did you mean {guess}? {MARKERS_HINT}"


def _duration(text: str, what: str, shown: str, line: int, ctx: Context) -> float:
    try:
        return parse_duration(compact_duration(text), what=what)
    except LengthError as exc:
        meant = meant_duration(text)
        if meant is not None and "[" in shown:  # `[pause 5]`: the markers it could mean, with the teacher's number
            options = " or ".join(shown.replace(text.strip(), option, 1) for option in meant.split(" or "))
            ambiguous = " (a number alone could be seconds or minutes)" if " or " in meant else ""
            raise ctx.error(f"{shown}: {what} {text.strip()!r} has no unit{ambiguous}", f"write {options}", line) from None
        raise ctx.error(f"{shown}: {exc.message}", exc.hint, line) from None


def _pause(marker: str, arg: str, line: int, ctx: Context) -> Pause:
    ranges = "write [pause 5s], [pause 10s..2m] or [pause 10s..], or [short pause] (5s) / [long pause] (20s)"
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
        raise ctx.error(
            f"{marker}: the range runs backwards ({parts[0].strip()} is longer than {parts[1].strip()})",
            f"write the shorter time first: [pause {parts[1].strip()}..{parts[0].strip()}]",
            line,
        )
    return Pause(low, high, line, "pause")


def _ssml_break(line: str, start: int, line_no: int, ctx: Context) -> tuple[Pause, int]:
    """Parse `<break time="…"/>` at `start`; return the pause and the index after the tag."""
    match = _BREAK.match(line, start)
    if not match:
        end = line.find(">", start)
        shown = short(line[start : end + 1] if end >= 0 else line[start:], 50)
        raise ctx.error(f"unsupported SSML {shown}", 'write <break time="3s"/> or <break time="500ms"/>', line_no)
    value = match.group(1) if match.group(1) is not None else match.group(2)
    if "{" in value or "}" in value:
        raise ctx.error(f"placeholder inside marker {match.group()}", 'write the time itself, e.g. <break time="3s"/>', line_no)
    seconds = _duration(value, "break time", match.group(), line_no, ctx)
    return Pause(seconds, seconds, line_no, "break"), match.end()
