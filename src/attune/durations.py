"""Durations as users write them (`90s`, `500ms`, `1m30s`, `1h`) and as Attune prints them."""

from __future__ import annotations

import math
import re

from .errors import LengthError

#: The longest single pause, and the longest track, Attune accepts.
MAX_DURATION_S = 12 * 3600.0

_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")


def parse_duration(text: str, *, what: str = "duration") -> float:
    """Parse `90s`, `500ms`, `1m30s`, `2m`, `1h`, `1.5s` into seconds.

    Raises `LengthError` (without a file position: callers add it) for anything else,
    including bare numbers, negative values and values over `MAX_DURATION_S`.
    """
    raw = str(text).strip()
    compact = raw.replace(" ", "").lower()
    if compact.startswith("-"):
        raise LengthError(f"{what} {raw!r} is negative", "write a positive duration such as 30s or 2m")
    if re.fullmatch(r"\d+(?:\.\d+)?", compact):
        raise LengthError(f"{what} {raw!r} has no unit", f"write {compact}s or {compact}m")
    if not compact or not _WHOLE.fullmatch(compact):
        raise LengthError(f"{what} {raw!r} is not a duration", "write it like 90s, 500ms, 1m30s, 10m or 1h")
    units = [unit for _, unit in _PART.findall(compact)]
    if len(set(units)) != len(units):
        raise LengthError(f"{what} {raw!r} repeats a unit", "write it like 1m30s")
    seconds = sum(float(number) * _UNIT_S[unit] for number, unit in _PART.findall(compact))
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise LengthError(f"{what} {raw!r} is longer than the 12h limit", "use a duration of 12h or less")
    return seconds


def format_duration(seconds: float) -> str:
    """Format seconds the way users write them: `45s`, `4m12s`, `1h2m`, `1.5s`, `500ms`."""
    if seconds < 1 and seconds != 0:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60 and abs(seconds - round(seconds)) > 1e-6:
        return f"{seconds:.1f}s".replace(".0s", "s")
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return "".join(parts)
