"""Durations and pause markers as teachers write them, turned into Attune's own spelling.

`compact_duration("1 minute 30 seconds")` → "1m30s", `compact_duration("0:30")` → "30s": unit words
(`seconds`, `sec`, `min`, `minutes`, `hours`, `ms`…), spaces, `and` or a comma between parts, and
clock times (`m:ss`, `h:mm:ss`) are accepted; anything else is returned unchanged, for
`parse_duration` to refuse with its own message. A bare number (`5`) and a number word (`five`)
stay refused: `5` could mean seconds or minutes. `meant_duration("five")` gives the spellings
the teacher may have meant (`5s or 5m`), with their number in them.

Also the marker aliases: `[silence 30s]` is `[pause 30s]`, Meditation-Generator's `[PAUSE:3]` is
`[pause 3s]`, and `[short pause]` / `[long pause]` have defined lengths.
"""

from __future__ import annotations

import re

#: `[short pause]` and `[long pause]`: fixed pauses of these lengths (seconds).
SHORT_PAUSE_S = 5.0
LONG_PAUSE_S = 20.0

_UNITS = {
    "ms": "ms", "msec": "ms", "msecs": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}  # fmt: skip
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})\s*([A-Za-z]+)")
_SPELLED = re.compile(rf"(?:{_NUMBER}\s*[A-Za-z]+)(?:\s*(?:,|\band\b)?\s*{_NUMBER}\s*[A-Za-z]+)*", re.IGNORECASE)
_CLOCK = re.compile(r"(?:(\d{1,2}):)?(\d{1,3}):([0-5]\d)")

_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
    )
}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90, "a": 1, "an": 1})

#: Meditation-Generator's marker: `[pause:3]`, any case, spaces around the colon, whole seconds.
MEDITATION_GENERATOR_PAUSE = re.compile(r"\s*pause\s*:\s*(\d+)\s*", re.IGNORECASE)


def compact_duration(text: str) -> str:
    """A duration as teachers write it → Attune's compact spelling (`1 min 30 sec` → `1m30s`,
    `0:30` → `30s`, `1:00:00` → `1h`). Text that is not one of these comes back stripped, unchanged."""
    raw = " ".join(text.split())
    clock = _CLOCK.fullmatch(raw)
    if clock:
        hours, minutes, seconds = (int(g) if g else 0 for g in clock.groups())
        if clock.group(1) is not None and minutes > 59:
            return raw
        parts = [(hours, "h"), (minutes, "m"), (seconds, "s")]
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
    if not _SPELLED.fullmatch(raw):
        return raw
    out = []
    for number, word in _PART.findall(raw):
        unit = _UNITS.get(word.lower())
        if unit is None:
            return raw
        out.append(f"{number}{unit}")
    return "".join(out)


def meant_duration(text: str) -> str | None:
    """For a duration with no unit (`5`, `five`, `five seconds`): what was probably meant, with the
    teacher's number in it: "5s or 5m" (or "5s" when a unit word was there). None otherwise."""
    words = " ".join(text.lower().split())
    if re.fullmatch(_NUMBER, words):
        return f"{words}s or {words}m"
    head, _, unit = words.partition(" ")
    if (head in _NUMBER_WORDS and head not in ("a", "an")) or (head in ("a", "an") and unit):
        number = _NUMBER_WORDS[head]
        if not unit:
            return f"{number}s or {number}m"
        short = _UNITS.get(unit)
        return f"{number}{short}" if short else None
    return None


#: Interval bells ring at most this often (and keep a minute off each edge of a pause).
MIN_INTERVAL_S = 60.0
_OFF = ("off", "none", "no", "false", "0")


def interval_seconds(text: str, what: str = "interval_bells") -> float:
    """`10m`, `10 minutes`, `15:00` → seconds between interval bells; `off` (or `none`, `0`) → 0.0,
    which turns them off. Raises LengthError (no file position: the caller adds it)."""
    from ..durations import parse_duration
    from ..errors import LengthError

    raw = " ".join(str(text).split())
    if raw.lower() in _OFF:
        return 0.0
    try:
        seconds = parse_duration(compact_duration(raw), what=what)
    except LengthError as exc:
        meant = meant_duration(raw)
        if meant is not None:  # `10`, `ten`: minutes, since bells ring a minute apart at the least
            raise LengthError(f"{what} {raw!r} has no unit", f"write {meant.split(' or ')[-1]} for every {meant.split(' or ')[-1]}") from None
        raise LengthError(exc.message, "write it like 10m or 15 minutes, or off") from None
    if seconds < MIN_INTERVAL_S:
        raise LengthError(f"{what} {raw!r} is shorter than a minute", "ring interval bells every minute or more, e.g. 5m or 10m")
    return seconds
