"""Property tests for the parser: any text parses or raises ScriptError, and valid markers mean what they say."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune.errors import ScriptError
from attune.script import BREATH_S, Bell, Pause, Script, Speech, parse_script_text, split_sentences

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = ("yaml", "txt", "md")

FRAGMENTS = [
    "[pause",
    "[breath",
    "[bell]",
    "[",
    "]",
    " ",
    "5s",
    "500ms",
    "1m30s",
    "-3s",
    "999h",
    "..",
    "…",
    "10s..2m",
    "{",
    "}",
    "{name}",
    "{{",
    "}}",
    "{nmae}",
    '<break time="',
    "<break time='",
    '3s"/>',
    "'/>",
    "<",
    ">",
    "<!--",
    "-->",
    "\n",
    "\n\n",
    "\r\n",
    "## ",
    "# ",
    "### ",
    "---",
    "(optional)",
    "(repeat 3)",
    "(optinal, repeat 0)",
    "*",
    "_",
    "> ",
    "- ",
    "1. ",
    "Breathe in.",
    "Dr. Lee",
    "title: T",
    "sections:",
    "- text: ",
    "  text: |",
    "    ",
    "vars: {name: Bo}",
    "name:",
    "repeat: 2",
    "optional: true",
    "length: 10m",
    "rate: 150",
    "pitch: 50",
    "bells: {start: true}",
    ":",
    "'",
    '"',
    "&a",
    "*a",
    "<<: ",
    "!!python/object ",
    "\t",
    "é",
    "\x00",
    "\x01",
    "\ufeff",
    "\u2028",
    # Spellings, other tools' markers, interval bells (issue 27)
    "[pause 5 seconds]",
    "[silence",
    " seconds",
    " min",
    " minute",
    " and ",
    "0:30",
    "1:00:00",
    "[PAUSE:3]",
    "[pause : ",
    "\\[",
    "\\]",
    "\\",
    "[bells every",
    " 10m]",
    "[long pause]",
    "[short pause]",
    "five",
    "interval_bells: 10m",
    "interval_bells: off",
    "(interval_bells 5m)",
    "Breathe in;5\n",
    ";0",
    ";",
]
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), fragment_text)


def parses_or_raises_script_error(text: str, fmt: str) -> Script | None:
    try:
        script = parse_script_text(text, path=f"f.{fmt}", fmt=fmt, vars={"name": "Ana"})
    except ScriptError as exc:
        assert exc.path == f"f.{fmt}"
        assert exc.line is None or 1 <= exc.line <= sum(text.count(c) for c in "\n\r\x85\u2028\u2029") + 1
        assert str(exc).startswith(f"f.{fmt}")
        return None
    assert script.title.strip()
    for section in script.sections:
        assert section.items and 1 <= section.repeat <= 100
        for item in section.items:
            assert isinstance(item, (Speech, Pause, Bell))
            if isinstance(item, Pause) and item.interval_s is not None:
                assert item.interval_s >= 60
            if isinstance(item, Speech):
                assert item.text == " ".join(item.text.split()) and item.text
    return script


@FUZZ
@given(text=any_text, fmt=st.sampled_from(FORMATS))
def test_any_text_parses_or_raises_script_error(text, fmt):
    parses_or_raises_script_error(text, fmt)


@FUZZ
@given(body=any_text, fmt=st.sampled_from(("txt", "md")))
def test_any_body_after_front_matter(body, fmt):
    parses_or_raises_script_error(f"---\ntitle: T\nvars: {{name: Bo}}\n---\n{body}", fmt)


@FUZZ
@given(body=any_text, style=st.sampled_from(["|", ">", ""]))
def test_any_section_text_in_yaml(body, style):
    if style:
        indented = "\n".join("      " + line for line in body.split("\n"))
        text = f"title: T\nsections:\n  - name: A\n    text: {style}\n{indented}\n"
    else:
        text = f"title: T\nsections:\n  - text: {body}\n"
    parses_or_raises_script_error(text, "yaml")


durations = st.fixed_dictionaries(
    {
        "h": st.integers(0, 2),
        "m": st.integers(0, 59),
        "s": st.integers(0, 59),
        "ms": st.integers(0, 999),
    }
).filter(lambda d: any(d.values()))


def spell(parts: dict) -> tuple[str, float]:
    text = "".join(f"{value}{unit}" for unit, value in parts.items() if value)
    seconds = parts["h"] * 3600 + parts["m"] * 60 + parts["s"] + parts["ms"] / 1000
    return text, seconds


def only_item(marker: str, line_before: int) -> object:
    script = parse_script_text("---\ntitle: T\n---\n" + "\n" * line_before + marker + "\n", fmt="txt")
    (item,) = script.sections[0].items
    return item


@FUZZ
@given(parts=durations, blank_lines=st.integers(0, 5))
def test_fixed_pause_round_trip(parts, blank_lines):
    text, seconds = spell(parts)
    item = only_item(f"[pause {text}]", blank_lines)
    assert item == Pause(item.min_s, item.min_s, 4 + blank_lines, "pause")
    assert abs(item.min_s - seconds) < 1e-9


@FUZZ
@given(low=durations, high=durations, open_ended=st.booleans())
def test_elastic_pause_round_trip(low, high, open_ended):
    (low_text, low_s), (high_text, high_s) = spell(low), spell(high)
    marker = f"[pause {low_text}..]" if open_ended else f"[pause {low_text}..{high_text}]"
    if not open_ended and high_s < low_s:
        try:
            only_item(marker, 0)
        except ScriptError as exc:
            assert str(exc).startswith(f"<script>:4: {marker}: the range runs backwards")
            return
        raise AssertionError("a reversed range parsed")
    item = only_item(marker, 0)
    assert abs(item.min_s - low_s) < 1e-9
    assert item.max_s is None if open_ended else abs(item.max_s - high_s) < 1e-9


@FUZZ
@given(count=st.integers(1, 100))
def test_breath_round_trip(count):
    assert only_item(f"[breath {count}]", 0) == Pause(count * BREATH_S, count * BREATH_S, 4, "breath")


@FUZZ
@given(value=st.text(max_size=30).filter(lambda v: "\0" not in v))
def test_placeholder_values_are_inserted_literally(value):
    script = parse_script_text("---\ntitle: T\n---\nHi {who}.\n", fmt="txt", vars={"who": value})
    (speech,) = script.sections[0].items
    assert speech.text == " ".join(f"Hi {value}.".split())


@FUZZ
@given(text=st.text(max_size=200))
def test_split_sentences_keeps_every_character(text):
    sentences = split_sentences(text)
    assert "".join("".join(sentences).split()) == "".join(text.split())
    assert all(s and s == s.strip() for s in sentences)
    assert bool(sentences) == bool(text.strip())
