"""attune.script.text: markers, placeholders and sentences."""

from __future__ import annotations

import pytest

from attune.errors import ScriptError
from attune.script import (
    BREATH_S,
    MARKERS_HINT,
    Bell,
    Pause,
    Speech,
    parse_script_text,
    split_sentences,
)
from helpers.scripts import UNKNOWN_HINT, parse


def body(text: str, vars=None) -> list:
    """The items of a plain-text script whose body (starting on line 4) is `text`."""
    script = parse_script_text(f"---\ntitle: T\n---\n{text}\n", path="s.txt", fmt="txt", vars=vars)
    assert len(script.sections) == 1
    return list(script.sections[0].items)


def body_error(text: str, vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        body(text, vars)
    return str(info.value)


@pytest.mark.parametrize(
    "marker, min_s, max_s",
    [
        ("[pause 5s]", 5, 5),
        ("[pause 500ms]", 0.5, 0.5),
        ("[pause 1m30s]", 90, 90),
        ("[pause 2m]", 120, 120),
        ("[pause 1h]", 3600, 3600),
        ("[pause 1.5s]", 1.5, 1.5),
        ("[pause 0s]", 0, 0),
        ("[pause 10s..2m]", 10, 120),
        ("[pause 10s .. 2m]", 10, 120),
        ("[pause 10s…2m]", 10, 120),
        ("[pause 0s..2m]", 0, 120),
        ("[pause 10s..10s]", 10, 10),
        ("[pause 10s..]", 10, None),
    ],
)
def test_pause_markers(marker, min_s, max_s):
    assert body(f"Rest {marker} now.") == [Speech("Rest", 4), Pause(min_s, max_s, 4, "pause"), Speech("now.", 4)]


@pytest.mark.parametrize("marker, breaths", [("[breath]", 1), ("[breath 1]", 1), ("[breath 3]", 3), ("[breath 100]", 100)])
def test_breath_markers(marker, breaths):
    assert body(marker) == [Pause(breaths * BREATH_S, breaths * BREATH_S, 4, "breath")]


def test_bell_marker():
    assert body("[bell] Welcome. [bell]") == [Bell(4), Speech("Welcome.", 4), Bell(4)]


@pytest.mark.parametrize(
    "tag, seconds",
    [
        ('<break time="3s"/>', 3),
        ('<break time="500ms"/>', 0.5),
        ("<break time='3s'/>", 3),
        ('<break time="3s" />', 3),
        ('<BREAK TIME="1m"/>', 60),
    ],
)
def test_ssml_break(tag, seconds):
    assert body(f"One.{tag}Two.") == [Speech("One.", 4), Pause(seconds, seconds, 4, "break"), Speech("Two.", 4)]


def test_angle_brackets_that_are_not_breaks_are_speech():
    assert body("3 < 5 and <breakfast>") == [Speech("3 < 5 and <breakfast>", 4)]


def test_speech_whitespace_folds_and_paragraphs_split():
    items = body("Breathe   in,\n\tbreathe out.\n\n\nRest here.\n")
    assert items == [Speech("Breathe in, breathe out.", 4), Speech("Rest here.", 8)]


def test_punctuation_left_beside_a_marker_is_not_speech():
    assert body("Goodbye [pause 5s].") == [Speech("Goodbye", 4), Pause(5, 5, 4)]


def test_markers_alone_are_a_valid_script():
    script = parse_script_text("---\ntitle: Timer\n---\n[bell] [pause 20m] [bell]\n", fmt="txt")
    assert script.sections[0].items == (Bell(4), Pause(1200, 1200, 4), Bell(4))


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[paws 5s]",
            "unknown marker [paws 5s] — did you mean [pause 5s]? Markers are [pause 5s], [pause 10s..2m], [pause 10s..], [short pause], [long pause], [breath], [breath 3], [bell], [bells every 10m]",
        ),
        ("[pauses 10s..]", f"unknown marker [pauses 10s..] — did you mean [pause 10s..]? {MARKERS_HINT}"),
        ("[pause5s]", f"unknown marker [pause5s] — did you mean [pause 5s]? {MARKERS_HINT}"),
        ("[breathe]", f"unknown marker [breathe] — did you mean [breath]? {MARKERS_HINT}"),
        ("[bells]", "unknown marker [bells] — write [bells every 10m] (in a long pause) for interval bells, or [bell] for one strike"),
        ("[paus later]", f"unknown marker [paus later] — did you mean [pause 5s]? {MARKERS_HINT}"),
        ("[Music fades]", f"unknown marker [Music fades] — {UNKNOWN_HINT}"),
        ("[see](http://x)", f"unknown marker [see] — {UNKNOWN_HINT}"),
        ("[]", f"unknown marker [] — {UNKNOWN_HINT}"),
        ("[5s]", f"unknown marker [5s] — {UNKNOWN_HINT}"),
        ("[pause 5x]", "[pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
        ("[pause -3s]", "[pause -3s]: pause '-3s' is negative — write a positive duration such as 30s or 2m"),
        ("[pause 999h]", "[pause 999h]: pause '999h' is longer than the 12h limit — use a duration of 12h or less"),
        ("[pause 10s..13h]", "[pause 10s..13h]: pause '13h' is longer than the 12h limit — use a duration of 12h or less"),
        ("[pause 5]", "[pause 5]: pause '5' has no unit (a number alone could be seconds or minutes) — write [pause 5s] or [pause 5m]"),
        ("[pause 1m1m]", "[pause 1m1m]: pause '1m1m' repeats a unit — write it like 1m30s"),
        ("[pause 30s..10s]", "[pause 30s..10s]: the range runs backwards (30s is longer than 10s) — write the shorter time first: [pause 10s..30s]"),
        ("[pause]", "[pause] has no duration — write [pause 5s], [pause 10s..2m] or [pause 10s..], or [short pause] (5s) / [long pause] (20s)"),
        ("[pause ..2m]", "[pause ..2m] has no shortest time before '..' — write [pause 0s..2m] for up to 2m"),
        ("[pause 1s..2s..3s]", "[pause 1s..2s..3s] has more than one '..' — write [pause 5s], [pause 10s..2m] or [pause 10s..], or [short pause] (5s) / [long pause] (20s)"),
        (
            "[breath 0]",
            "[breath 0]: the number of breaths must be a whole number from 1 to 100, not '0' — write [breath] for one breath or [breath 3] for three",
        ),
        (
            "[breath 101]",
            "[breath 101]: the number of breaths must be a whole number from 1 to 100, not '101' — write [breath] for one breath or [breath 3] for three",
        ),
        (
            "[breath 2.5]",
            "[breath 2.5]: the number of breaths must be a whole number from 1 to 100, not '2.5' — write [breath] for one breath or [breath 3] for three",
        ),
        ("[bell 2]", "[bell 2] takes no value — write [bell]; write it twice for two strikes"),
        ("Rest] now", "']' without a matching '[' in 'Rest]' — remove it; square brackets are only for markers such as [pause 5s]"),
        ('<break time="3s">', 'unsupported SSML <break time="3s"> — write <break time="3s"/> or <break time="500ms"/>'),
        ('<break strength="weak"/>', 'unsupported SSML <break strength="weak"/> — write <break time="3s"/> or <break time="500ms"/>'),
        ('<break time="3x"/>', "<break time=\"3x\"/>: break time '3x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
        ('<break time="{t}"/>', 'placeholder inside marker <break time="{t}"/> — write the time itself, e.g. <break time="3s"/>'),
        ("[pause {t}]", "placeholder inside marker [pause {t}] — markers take their values as written, e.g. [pause 5s]"),
    ],
)
def test_marker_errors(text, message):
    assert body_error(text, vars={"t": "5s"}) == f"s.txt:4: {message}"


def test_multiline_marker_is_unclosed_on_its_line():
    # The opening line is a near miss (a warning: it would be spoken); the stray ] on the next is an error.
    assert body_error("Rest\nnow [pause\n5s]") == (
        "s.txt:6: ']' without a matching '[' in '5s]' — remove it; square brackets are only for markers such as [pause 5s]"
    )


def test_placeholders_from_defaults_and_overrides():
    text = """\
        ---
        title: Kindness
        vars:
          name: friend
          place: here
          count: 3
          ratio: 1.50
          flag: yes
        ---
        May you be well, {name}, {place}. {count} {ratio} {flag}
        """
    script = parse(text, "txt", vars={"name": "Ana"})
    assert script.sections[0].items == (Speech("May you be well, Ana, here. 3 1.50 yes", 10),)
    assert script.vars == {"name": "Ana", "place": "here", "count": "3", "ratio": "1.50", "flag": "yes"}


def test_override_values_are_literal_text_not_markers():
    assert body("Hi {name}.", vars={"name": "  [bell] {x}  "}) == [Speech("Hi [bell] {x} .", 4)]


def test_override_only_placeholder_and_vars_recorded():
    script = parse_script_text("---\ntitle: T\n---\nHi {who}\n", fmt="txt", vars={"who": "Bo", "unused": 1})
    assert script.sections[0].items == (Speech("Hi Bo", 4),)
    assert script.vars == {"who": "Bo", "unused": "1"}


def test_literal_braces():
    assert body("Sets {{a, b}} and }}{{ and {{name}}", vars={"name": "x"}) == [Speech("Sets {a, b} and }{ and {name}", 4)]


def test_undefined_placeholder():
    assert body_error("Hello\nthere {name}.") == ("s.txt:5: undefined placeholder {name} — give it a value with --var name=VALUE or a `vars:` entry (name: …)")


def test_undefined_placeholder_suggests_a_close_name():
    assert body_error("Hi {nmae}", vars={"name": "Ana"}) == (
        "s.txt:4: undefined placeholder {nmae} — did you mean {name}? Or give it a value with --var nmae=VALUE or a `vars:` entry (nmae: …)"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("a {1x} b", "'{' that starts no placeholder in '{1x} b'"),
        ("a {my-name} b", "'{' that starts no placeholder in '{my-name} b'"),
        ("a } b", "'}' without a matching '{' in 'a }'"),
        ("x" * 50 + "} b", "'}' without a matching '{' in '…" + "x" * 39 + "}'"),
    ],
)
def test_brace_errors(text, message):
    hint = "write {name} for a placeholder (letters, digits and _), or {{ and }} for literal braces"
    assert body_error(text) == f"s.txt:4: {message} — {hint}"


def test_bad_override_name():
    with pytest.raises(ScriptError) as info:
        parse_script_text("---\ntitle: T\n---\nHi\n", path="s.txt", fmt="txt", vars={"my name": "x"})
    assert str(info.value) == ("s.txt: --var 'my name' is not a placeholder name — names are letters, digits and _, not starting with a digit: --var name=Ana")


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Wait... Now?! Yes… go", ["Wait...", "Now?!", "Yes…", "go"]),
        ("Dr. Smith and Mr. Jones met Mrs. Lee, Ms. Kay and St. Clare.", ["Dr. Smith and Mr. Jones met Mrs. Lee, Ms. Kay and St. Clare."]),
        ("Notice sounds, e.g. birds, i.e. nature. Rest.", ["Notice sounds, e.g. birds, i.e. nature.", "Rest."]),
        ("Breathe (e.g. slowly) now.", ["Breathe (e.g. slowly) now."]),
        ("It is 3.5 degrees. Count 10.5 breaths.", ["It is 3.5 degrees.", "Count 10.5 breaths."]),
        ('She said "Rest." Then smiled.', ['She said "Rest."', "Then smiled."]),
        ("(Quietly.) Begin.", ["(Quietly.)", "Begin."]),
        ("No end punctuation", ["No end punctuation"]),
        ("End.", ["End."]),
        ("  Spaced.   Out.  ", ["Spaced.", "Out."]),
        ("...", ["..."]),
        ("Line one.\nLine two.", ["Line one.", "Line two."]),
        ("", []),
        ("   ", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(
    "make",
    [
        lambda n: split_sentences("." * n + "x"),
        lambda n: split_sentences("e.g" * n),
        lambda n: parse_script_text("# T\n## A" + " " * n + "b (" + " " * n + ")\nHi.\n", fmt="md"),
        lambda n: parse_script_text("# T\n##" + " " * n + "x\nHi.\n", fmt="md"),
        lambda n: parse_script_text("# T\nHi [pause" + " " * n + "x" + " " * n + "]\n", fmt="md"),
        lambda n: parse_script_text("# T\nHi [" + " " * n + "x" + " " * n + "]\n", fmt="md"),
        lambda n: parse_script_text("# T\n" + "<!--" * n, fmt="md"),
    ],
)
def test_pathological_input_does_not_hang(make):
    # A guard against catastrophic regex backtracking, not a speed claim: on these inputs a
    # backtracking pattern runs for hours, a linear one in milliseconds; 60 s separates them.
    import time

    start = time.perf_counter()
    try:
        make(200_000)
    except ScriptError:
        pass
    assert time.perf_counter() - start < 60.0
