"""Parsing helpers for the script tests: parse text, or get the one-line error it raises."""

from __future__ import annotations

import textwrap

import pytest

from attune.errors import ScriptError
from attune.script import (
    MARKERS_HINT,
    Script,
    parse_script_text,
)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def parse(text: str, fmt: str = "yaml", vars=None) -> Script:
    return parse_script_text(dedent(text), path=f"s.{fmt}", fmt=fmt, vars=vars)


def error(text: str, fmt: str = "yaml", vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        parse(text, fmt, vars)
    return str(info.value)


UNKNOWN_HINT = f"{MARKERS_HINT} (square brackets are only for markers)"
