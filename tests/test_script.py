"""The script parser: every format, every marker, placeholders, and every error with its exact text and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from attune.errors import ScriptError
from attune.script import (
    BREATH_S,
    MARKERS_HINT,
    MAX_SCRIPT_BYTES,
    Bell,
    Pause,
    Script,
    Section,
    Speech,
    load_script,
    parse_script_text,
    split_sentences,
)
from attune.settings import Background, TrackSettings


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def parse(text: str, fmt: str = "yaml", vars=None) -> Script:
    return parse_script_text(dedent(text), path=f"s.{fmt}", fmt=fmt, vars=vars)


def error(text: str, fmt: str = "yaml", vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        parse(text, fmt, vars)
    return str(info.value)


def body(text: str, vars=None) -> list:
    """The items of a plain-text script whose body (starting on line 4) is `text`."""
    script = parse_script_text(f"---\ntitle: T\n---\n{text}\n", path="s.txt", fmt="txt", vars=vars)
    assert len(script.sections) == 1
    return list(script.sections[0].items)


def body_error(text: str, vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        body(text, vars)
    return str(info.value)


def load_error(path, vars=None) -> str:
    with pytest.raises(ScriptError) as info:
        load_script(path, vars)
    return str(info.value)


# ---------------------------------------------------------------------------------------------
# Markers


@pytest.mark.parametrize("marker, min_s, max_s", [
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
    ("[ Pause 5S ]", 5, 5),
])
def test_pause_markers(marker, min_s, max_s):
    assert body(f"Rest {marker} now.") == [Speech("Rest", 4), Pause(min_s, max_s, 4, "pause"), Speech("now.", 4)]


def test_elastic_property():
    assert not Pause(5, 5, 1).elastic
    assert Pause(5, 6, 1).elastic
    assert Pause(5, None, 1).elastic


@pytest.mark.parametrize("marker, breaths", [("[breath]", 1), ("[breath 1]", 1), ("[breath 3]", 3), ("[breath 100]", 100)])
def test_breath_markers(marker, breaths):
    assert body(marker) == [Pause(breaths * BREATH_S, breaths * BREATH_S, 4, "breath")]


def test_bell_marker():
    assert body("[bell] Welcome. [bell]") == [Bell(4), Speech("Welcome.", 4), Bell(4)]


@pytest.mark.parametrize("tag, seconds", [
    ('<break time="3s"/>', 3),
    ('<break time="500ms"/>', 0.5),
    ("<break time='3s'/>", 3),
    ('<break time="3s" />', 3),
    ('<BREAK TIME="1m"/>', 60),
])
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


UNKNOWN_HINT = f"{MARKERS_HINT} (square brackets are only for markers)"


@pytest.mark.parametrize("text, message", [
    ("[paws 5s]", "unknown marker [paws 5s] — did you mean [pause 5s]? Markers are [pause 5s], [pause 10s..2m], "
                  "[pause 10s..], [breath], [breath 3], [bell]"),
    ("[pauses 10s..]", f"unknown marker [pauses 10s..] — did you mean [pause 10s..]? {MARKERS_HINT}"),
    ("[pause5s]", f"unknown marker [pause5s] — did you mean [pause 5s]? {MARKERS_HINT}"),
    ("[breathe]", f"unknown marker [breathe] — did you mean [breath]? {MARKERS_HINT}"),
    ("[bells]", f"unknown marker [bells] — did you mean [bell]? {MARKERS_HINT}"),
    ("[paus later]", f"unknown marker [paus later] — did you mean [pause 5s]? {MARKERS_HINT}"),
    ("[Music fades]", f"unknown marker [Music fades] — {UNKNOWN_HINT}"),
    ("[see](http://x)", f"unknown marker [see] — {UNKNOWN_HINT}"),
    ("[]", f"unknown marker [] — {UNKNOWN_HINT}"),
    ("[5s]", f"unknown marker [5s] — {UNKNOWN_HINT}"),
    ("[pause 5x]", "[pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
    ("[pause -3s]", "[pause -3s]: pause '-3s' is negative — write a positive duration such as 30s or 2m"),
    ("[pause 999h]", "[pause 999h]: pause '999h' is longer than the 12h limit — use a duration of 12h or less"),
    ("[pause 10s..13h]", "[pause 10s..13h]: pause '13h' is longer than the 12h limit — use a duration of 12h or less"),
    ("[pause 5]", "[pause 5]: pause '5' has no unit — write 5s or 5m"),
    ("[pause 1m1m]", "[pause 1m1m]: pause '1m1m' repeats a unit — write it like 1m30s"),
    ("[pause 30s..10s]", "[pause 30s..10s]: the range runs backwards (30s is longer than 10s) — "
                         "write the shorter time first: [pause 10s..30s]"),
    ("[pause]", "[pause] has no duration — write [pause 5s], [pause 10s..2m] or [pause 10s..]"),
    ("[pause ..2m]", "[pause ..2m] has no shortest time before '..' — write [pause 0s..2m] for up to 2m"),
    ("[pause 1s..2s..3s]", "[pause 1s..2s..3s] has more than one '..' — write [pause 5s], [pause 10s..2m] or [pause 10s..]"),
    ("[breath 0]", "[breath 0]: the number of breaths must be a whole number from 1 to 100, not '0' — "
                   "write [breath] for one breath or [breath 3] for three"),
    ("[breath 101]", "[breath 101]: the number of breaths must be a whole number from 1 to 100, not '101' — "
                     "write [breath] for one breath or [breath 3] for three"),
    ("[breath 2.5]", "[breath 2.5]: the number of breaths must be a whole number from 1 to 100, not '2.5' — "
                     "write [breath] for one breath or [breath 3] for three"),
    ("[bell 2]", "[bell 2] takes no value — write [bell]; write it twice for two strikes"),
    ("Rest [pause 5s and go", "unclosed marker [pause 5s and go — close it with ] on the same line; "
                              "square brackets are only for markers such as [pause 5s]"),
    ("[pause 5s [bell]", "unclosed marker [pause 5s — close it with ] on the same line; "
                         "square brackets are only for markers such as [pause 5s]"),
    ("Rest] now", "']' without a matching '[' in 'Rest]' — remove it; square brackets are only for markers such as [pause 5s]"),
    ('<break time="3s">', 'unsupported SSML <break time="3s"> — write <break time="3s"/> or <break time="500ms"/>'),
    ('<break strength="weak"/>', 'unsupported SSML <break strength="weak"/> — write <break time="3s"/> or <break time="500ms"/>'),
    ('<break time="3x"/>', "<break time=\"3x\"/>: break time '3x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
    ('<break time="{t}"/>', 'placeholder inside marker <break time="{t}"/> — write the time itself, e.g. <break time="3s"/>'),
    ("[pause {t}]", "placeholder inside marker [pause {t}] — markers take their values as written, e.g. [pause 5s]"),
])
def test_marker_errors(text, message):
    assert body_error(text, vars={"t": "5s"}) == f"s.txt:4: {message}"


def test_multiline_marker_is_unclosed_on_its_line():
    assert body_error("Rest\nnow [pause\n5s]") == (
        "s.txt:5: unclosed marker [pause — close it with ] on the same line; square brackets are only for markers such as [pause 5s]")


# ---------------------------------------------------------------------------------------------
# Placeholders


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
    assert body_error("Hello\nthere {name}.") == (
        "s.txt:5: undefined placeholder {name} — give it a value with --var name=VALUE or a `vars:` entry (name: …)")


def test_undefined_placeholder_suggests_a_close_name():
    assert body_error("Hi {nmae}", vars={"name": "Ana"}) == (
        "s.txt:4: undefined placeholder {nmae} — did you mean {name}? Or give it a value with --var nmae=VALUE "
        "or a `vars:` entry (nmae: …)")


@pytest.mark.parametrize("text, message", [
    ("a { b", "'{' that starts no placeholder in '{ b'"),
    ("a {1x} b", "'{' that starts no placeholder in '{1x} b'"),
    ("a {my-name} b", "'{' that starts no placeholder in '{my-name} b'"),
    ("a } b", "'}' without a matching '{' in 'a }'"),
    ("x" * 50 + "} b", "'}' without a matching '{' in '…" + "x" * 39 + "}'"),
])
def test_brace_errors(text, message):
    hint = "write {name} for a placeholder (letters, digits and _), or {{ and }} for literal braces"
    assert body_error(text) == f"s.txt:4: {message} — {hint}"


def test_bad_override_name():
    with pytest.raises(ScriptError) as info:
        parse_script_text("---\ntitle: T\n---\nHi\n", path="s.txt", fmt="txt", vars={"my name": "x"})
    assert str(info.value) == ("s.txt: --var 'my name' is not a placeholder name — names are letters, digits and _, "
                               "not starting with a digit: --var name=Ana")


@pytest.mark.parametrize("vars_yaml, message", [
    ("vars: {name: }", "s.yaml:2: vars value for 'name' is empty — give it a value, e.g. name: friend, or name: \"\" for nothing"),
    ("vars: {my-name: a}", "s.yaml:2: vars name 'my-name' is not a placeholder name — names are letters, digits and _, "
                           "not starting with a digit"),
    ("vars: [a]", "s.yaml:2: vars must be a mapping of placeholder values, not a list — write vars: then lines like `  name: friend`"),
    ("vars: {name: [a]}", "s.yaml:2: vars value for 'name' must be text or a number, not a list — write name: friend"),
    ("vars: {a: 1, a: 2}", "s.yaml:2: duplicate vars name 'a' — give each name once"),
])
def test_vars_errors(vars_yaml, message):
    assert error(f"title: T\n{vars_yaml}\nsections: [{{text: hi}}]\n") == message


# ---------------------------------------------------------------------------------------------
# YAML

FULL_YAML = """\
    title: Evening   calm
    author: Ana Silva
    description: A short practice.
    language: no
    voice: en-us+f3
    rate: 150
    pitch: 40
    length: 10m
    background:
      kind: drone
      gain_db: -20
    bells: {start: true, end: false}
    vars:
      name: friend
    sections:
      - name: Arrive
        text: |
          Welcome, {name}. [pause 5s]

          [breath 3] Notice the breath.
      - text: >
          Let the body
          soften. [pause 10s..2m]

          Rest. [pause 30s..]
        optional: true
        repeat: 2
      - name: Close
        text: "Thank you. <break time='2s'/> [bell]"
    """


def test_full_yaml_script():
    script = parse(FULL_YAML)
    assert script.path == "s.yaml"
    assert script.title == "Evening calm"
    settings = script.settings
    assert (script.author, script.description, script.language, settings.voice) == ("Ana Silva", "A short practice.", "no", "en-us+f3")
    assert settings.rate_wpm == 150.0 and settings.pitch == 40 and settings.length_s == 600
    assert settings.background == Background({"kind": "drone", "gain_db": -20}, Path("."), "s.yaml", 10)
    assert (settings.bells_start, settings.bells_end) == (True, False)
    assert script.vars == settings.vars == {"name": "friend"}
    assert script.sections == (
        Section("Arrive", (Speech("Welcome, friend.", 18), Pause(5, 5, 18), Pause(18, 18, 20, "breath"),
                           Speech("Notice the breath.", 20)), 16),
        Section("Section 2", (Speech("Let the body soften.", 22), Pause(10, 120, 23), Speech("Rest.", 25), Pause(30, None, 25)),
                21, optional=True, repeat=2),
        Section("Close", (Speech("Thank you.", 29), Pause(2, 2, 29, "break"), Bell(29)), 28),
    )


def test_yaml_minimal_defaults():
    script = parse("title: T\nsections:\n  - text: Hi.\n")
    assert script == Script("s.yaml", "T", (Section("Section 1", (Speech("Hi.", 3),), 3),))
    assert script.settings == TrackSettings() and script.vars == {}


def test_yaml_background_string_and_scalars_as_written():
    script = parse("title: 1984\nbackground: off\nlanguage: no\nsections: [{text: hi, name: 2}]\n")
    assert (script.title, script.settings.background.value, script.language, script.sections[0].name) == ("1984", "off", "no", "2")
    assert script.settings.background.line == 2


@pytest.mark.parametrize("style", ["|", "|-", "|+", ">", ">-", "|2"])
def test_line_numbers_in_block_scalars(style):
    text = f"title: T\nsections:\n  - name: A\n    text: {style}\n      First line.\n\n      Second [bell] line.\n      [paws 5s]\n"
    assert error(text).startswith("s.yaml:8: unknown marker [paws 5s]")
    script = parse(text.replace("[paws 5s]", ""))
    assert script.sections[0].items == (Speech("First line.", 5), Speech("Second", 7), Bell(7), Speech("line.", 7))


def test_line_numbers_in_plain_and_quoted_multiline_scalars():
    assert error("title: T\nsections:\n  - text: First\n      then [bell]\n      [pause 5x]\n").startswith("s.yaml:5: [pause 5x]")
    assert error("title: T\nsections:\n  - text: 'It''s\n\n      [pause 5x]'\n").startswith("s.yaml:5: [pause 5x]")
    assert error('title: T\nsections:\n  - text: "One\n      two [pause 5x]"\n').startswith("s.yaml:4: [pause 5x]")


def test_yaml_escapes_fall_back_to_the_value():
    script = parse('title: T\nsections:\n  - text: "Caf\\u00e9 \\"time\\"\\n\\n[bell]"\n')
    assert script.sections[0].items == (Speech('Café "time"', 3), Bell(3))


def test_yaml_merge_keys_and_anchors():
    text = """\
        title: T
        sections:
          - &base
            name: A
            text: Hello.
            repeat: 2
          - <<: *base
            name: B
        """
    script = parse(text)
    assert [(s.name, s.repeat, s.items) for s in script.sections] == [("A", 2, (Speech("Hello.", 5),)), ("B", 2, (Speech("Hello.", 5),))]


@pytest.mark.parametrize("text, message", [
    ("title: T\nlenght: 10m\nsections: [{text: hi}]\n", "s.yaml:2: unknown key 'lenght' — did you mean 'length'?"),
    ("Title: T\nsections: [{text: hi}]\n", "s.yaml:1: unknown key 'Title' — did you mean 'title'?"),
    ("title: T\nmusic: x\nsections: [{text: hi}]\n",
     "s.yaml:2: unknown key 'music' — the script keys are title, author, description, language, voice, rate, pitch, length, "
     "background, bells, vars, sections"),
    ("title: T\nsections:\n  - text: hi\n    txet: no\n", "s.yaml:4: unknown key 'txet' — did you mean 'text'?"),
    ("title: T\nsections:\n  - text: hi\n    when: now\n", "s.yaml:4: unknown key 'when' — the section keys are name, text, optional, repeat"),
    ("title: T\ntitle: U\nsections: [{text: hi}]\n", "s.yaml:2: duplicate key 'title' — give each key once"),
    ("title: T\n[a]: 1\nsections: [{text: hi}]\n",
     "s.yaml:2: a script key must be a name, not a list — the keys are title, author, description, language, voice, rate, pitch, "
     "length, background, bells, vars, sections"),
    ("sections: [{text: hi}]\n", "s.yaml: missing title — add `title: …` at the top of the script"),
    ("title:\nsections: [{text: hi}]\n", "s.yaml: missing title — add `title: …` at the top of the script"),
    ("title: '  '\nsections: [{text: hi}]\n", "s.yaml:1: title is empty — write title: followed by the practice's name"),
    ("title: [a]\nsections: [{text: hi}]\n", "s.yaml:1: title must be text, not a list — write title: followed by the text on the same line"),
    ("title: T\n", "s.yaml: missing sections — add `sections:` with one `- text: …` entry per part of the practice"),
    ("title: T\nsections: 5\n",
     "s.yaml:2: sections must be a list, not 5 — write `sections:` then one `- name: …` / `  text: …` entry per section"),
    ("title: T\nsections: []\n",
     "s.yaml:2: sections is empty — write `sections:` then one `- name: …` / `  text: …` entry per section"),
    ("title: T\nsections:\n  - hello\n",
     "s.yaml:3: section 1 must be a mapping with text:, not 'hello' — write `sections:` then one `- name: …` / `  text: …` entry "
     "per section"),
    ("title: T\nsections:\n  - name: Empty\n", "s.yaml:3: section 'Empty' has no text — add `text:` with the words to speak, or remove the section"),
    ("title: T\nsections:\n  - text: ''\n", "s.yaml:3: section 'Section 1' has no text — add `text:` with the words to speak, or remove the section"),
    ("title: T\nsections:\n  - text:\n", "s.yaml:3: section 'Section 1' has no text — add `text:` with the words to speak, or remove the section"),
    ("title: T\nsections:\n  - text: hi\n  - name: B\n    text: |\n\n", "s.yaml:5: section 'B' has no text — add `text:` with the words to speak, "
                                                                       "or remove the section"),
    ("title: T\nsections:\n  - text:\n      - a\n",
     "s.yaml:4: text must be the words to speak, not a list — a text starting with [ is read as a YAML list: write `text: |` and the "
     "text on the next lines, indented"),
    ("title: T\nsections:\n  - text: hi\n    repeat: x\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 'x' — write repeat: 2"),
    ("title: T\nsections:\n  - text: hi\n    repeat: 0\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 0 — write repeat: 2"),
    ("title: T\nsections:\n  - text: hi\n    repeat: 101\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 101 — write repeat: 2"),
    ("title: T\nsections:\n  - text: hi\n    repeat: 2.0\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 2.0 — write repeat: 2"),
    ("title: T\nsections:\n  - text: hi\n    repeat: true\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not true — write repeat: 2"),
    ("title: T\nsections:\n  - text: hi\n    optional: maybe\n",
     "s.yaml:4: optional must be true or false, not 'maybe' — write optional: true or optional: false"),
    ("title: T\nrate: fast\nsections: [{text: hi}]\n", "s.yaml:2: rate must be a number from 80 to 400, not 'fast' — give words per minute, e.g. rate: 150"),
    ("title: T\nrate: 500\nsections: [{text: hi}]\n", "s.yaml:2: rate must be a number from 80 to 400, not 500 — give words per minute, e.g. rate: 150"),
    ("title: T\nrate: .nan\nsections: [{text: hi}]\n", "s.yaml:2: rate must be a number from 80 to 400, not .nan — give words per minute, e.g. rate: 150"),
    ("title: T\npitch: 50.5\nsections: [{text: hi}]\n", "s.yaml:2: pitch must be a whole number from 0 to 100, not 50.5 — 50 is normal, e.g. pitch: 50"),
    ("title: T\npitch: 150\nsections: [{text: hi}]\n", "s.yaml:2: pitch must be a whole number from 0 to 100, not 150 — 50 is normal, e.g. pitch: 50"),
    ("title: T\npitch:\nsections: [{text: hi}]\n",
     "s.yaml:2: pitch must be a whole number from 0 to 100, not an empty value — 50 is normal, e.g. pitch: 50"),
    ("title: T\nlength: 600\nsections: [{text: hi}]\n", "s.yaml:2: length '600' has no unit — write 600s or 10m"),
    ("title: T\nlength: 5\nsections: [{text: hi}]\n", "s.yaml:2: length '5' has no unit — write 5s or 5m"),
    ("title: T\nlength: 10 minutes\nsections: [{text: hi}]\n",
     "s.yaml:2: length '10 minutes' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
    ("title: T\nlength: 13h\nsections: [{text: hi}]\n", "s.yaml:2: length '13h' is longer than the 12h limit — use a duration of 12h or less"),
    ("title: T\nlength: 0s\nsections: [{text: hi}]\n", "s.yaml:2: length '0s' is zero — give the track's length, e.g. length: 10m"),
    ("title: T\nlength: [10m]\nsections: [{text: hi}]\n", "s.yaml:2: length must be a duration such as 10m, not a list — write length: 10m"),
    ("title: T\nbackground: [a]\nsections: [{text: hi}]\n",
     "s.yaml:2: background must be a name or a mapping, not a list — write background: drone, or a mapping such as "
     "{kind: drone, gain_db: -20}"),
    ("title: T\nbackground: {a: !!python/object/apply:os.system [echo]}\nsections: [{text: hi}]\n",
     "s.yaml:2: background: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system' — "
     "write plain values, e.g. {kind: drone, gain_db: -20}"),
    ("title: T\nbells: yes\nsections: [{text: hi}]\n", "s.yaml:2: bells must be a mapping, not yes — write bells: {start: true, end: true}"),
    ("title: T\nbells: {start: maybe}\nsections: [{text: hi}]\n",
     "s.yaml:2: bells.start must be true or false, not 'maybe' — write bells.start: true or bells.start: false"),
    ("title: T\nbells: {strat: true}\nsections: [{text: hi}]\n", "s.yaml:2: unknown key 'strat' — did you mean 'start'?"),
    ("- a\n- b\n", "s.yaml:1: a YAML script must be a mapping of settings, not a list — start it with `title: …` and a `sections:` list"),
    ("just words\n", "s.yaml:1: a YAML script must be a mapping of settings, not 'just words' — start it with `title: …` and a "
                     "`sections:` list"),
    ("# only a comment\n", "s.yaml: script is empty — start it with `title: …` and a `sections:` list"),
    ("title: T\n---\ntitle: U\n",
     "s.yaml:2: YAML syntax error (expected a single document in the stream, but found another document) in '---' — "
     "a script is one YAML document: remove the second --- line"),
    ("title: T\nsections:\n  - text: Breathe: in\n",
     "s.yaml:3: YAML syntax error (mapping values are not allowed here) in '- text: Breathe: in' — check the indentation and quoting "
     "on this line: text containing ': ' or ' #', or starting with [, {, *, &, ! or a quote, must be quoted or written as a block "
     "(text: |)"),
    ("title: T\nsections:\n  - text: [bell] Welcome.\n",
     "s.yaml:3: YAML syntax error (while parsing a block mapping, expected <block end>, but found '<scalar>') in "
     "'- text: [bell] Welcome.' — a value that starts with [ or { is read as a YAML list or mapping: write `text: |` and put the "
     "text on the next lines, indented"),
    ("title: T\nsections: [{text: hi}]\n\x01\n", "s.yaml:3: control character U+0001 is not allowed in YAML — delete it"),
    ("a: &x [*x]\nb: " + "[" * 1000 + "\n", "s.yaml: the YAML is nested too deeply — a script needs only a few levels of nesting"),
])
def test_yaml_errors(text, message):
    assert error(text) == message


def test_yaml_error_with_crlf_line_endings():
    assert error("title: T\r\nsections:\r\n  - text: |\r\n      Hi.\r\n      [pause 5x]\r\n").startswith("s.yaml:5: [pause 5x]")


# ---------------------------------------------------------------------------------------------
# Plain text


def test_txt_with_front_matter():
    text = """\
        ---
        title: Body scan
        length: 15m
        rate: 140
        bells: {start: true, end: true}
        ---
        Settle in.   [pause 5s]
        Feel your feet.

        [bell]
        """
    script = parse(text, "txt")
    settings = script.settings
    assert script.title == "Body scan" and settings.length_s == 900 and settings.rate_wpm == 140 and settings.bells_start and settings.bells_end
    assert script.sections == (Section("Body scan", (Speech("Settle in.", 7), Pause(5, 5, 7), Speech("Feel your feet.", 8), Bell(10)), 7),)


def test_txt_markdown_syntax_is_spoken_as_is():
    script = parse("---\ntitle: T\n---\n## Not a heading *really*\n<!-- said -->\n", "txt")
    assert script.sections[0].items == (Speech("## Not a heading *really* <!-- said -->", 4),)


def test_txt_empty_front_matter_then_missing_title():
    assert error("---\n---\nHello.\n", "txt") == "s.txt: missing title — add `title: …` to the front matter (between --- lines at the top)"


@pytest.mark.parametrize("text, message", [
    ("Hello there.\n", "s.txt: missing title — add `title: …` to the front matter (between --- lines at the top)"),
    ("---\ntitle: T\nlength: 10m\n", "s.txt:1: front matter opened with --- is not closed — add a line with --- after the settings"),
    ("---\ntitle: T\n---\n\n\n", "s.txt: script has no text — write the words to speak after the front matter"),
    ("---\ntitle: T\nsections: []\n---\nHi\n",
     "s.txt:3: sections are not allowed in front matter — in plain text the words after the front matter are the one section; "
     "use .md or .yaml for several"),
    ("---\n- a\n---\nHi\n",
     "s.txt:2: front matter must be settings (title: …), not a list — write lines like `title: Evening calm` between the --- lines"),
    ("---\ntitle: T\nlenght: 5m\n---\nHi\n", "s.txt:3: unknown key 'lenght' — did you mean 'length'?"),
    ("---\ntitle: T\nrate: [\n---\nHi\n",
     "s.txt:3: YAML syntax error (while parsing a flow node, expected the node content, but found '<stream end>') in 'rate: [' — "
     "a value that starts with [ or { is read as a YAML list or mapping: write `text: |` and put the text on the next lines, indented"),
    ("---\ntitle: T\nlength: 10\n---\nHi\n", "s.txt:3: length '10' has no unit — write 10s or 10m"),
    ("---\ntitle: T\n---\nOne.\nTwo.\n\nThree [pause 5x]\n",
     "s.txt:7: [pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
])
def test_txt_errors(text, message):
    assert error(text, "txt") == message


# ---------------------------------------------------------------------------------------------
# Markdown

MARKDOWN = """\
    ---
    author: Ana
    vars: {first_name: friend}
    ---
    # The *Evening* Practice

    Welcome, {first_name}. <!-- teachers: slow down
    here, and breathe -->Let's begin.

    ## Settling (optional)
    - Breathe _in_.
    - Breathe **out**.
    > Rest here. [bell]

    ### For the teacher
    ---
    ## Phrases (repeat 3)
    1. May you be well.
    2. May you be happy. [pause 5s]

    ## Closing (Optional, Repeat 2)
    Goodbye.
    ## Breathing (the basics)
    Notice it.
    ##
    Last.
    """


def test_markdown_sections_flags_and_cleanup():
    script = parse(MARKDOWN, "md")
    assert script.title == "The Evening Practice" and script.author == "Ana"
    assert script.sections == (
        Section("Opening", (Speech("Welcome, friend. Let's begin.", 7),), 7),
        Section("Settling", (Speech("Breathe in. Breathe out. Rest here.", 11), Bell(13)), 10, optional=True),
        Section("Phrases", (Speech("May you be well. May you be happy.", 18), Pause(5, 5, 19)), 17, repeat=3),
        Section("Closing", (Speech("Goodbye.", 22),), 21, optional=True, repeat=2),
        Section("Breathing (the basics)", (Speech("Notice it.", 24),), 23),
        Section("Section 5", (Speech("Last.", 26),), 25),
    )


def test_markdown_front_matter_title_wins_and_opening_omitted():
    script = parse("---\ntitle: From front matter\n---\n# Heading title\n<!-- note -->\n\n## Only\nHi.\n", "md")
    assert script.title == "From front matter"
    assert script.sections == (Section("Only", (Speech("Hi.", 8),), 7),)


def test_markdown_comment_keeps_line_numbers():
    assert error("# T\n<!--\nline\nline\n-->\n\nSay [pause 5x]\n", "md").startswith("s.md:7: [pause 5x]")


def test_markdown_emphasis_keeps_placeholder_underscores():
    script = parse("# T\n__Hello__ {first_name}, *_calm_* and snake_case.\n", "md", vars={"first_name": "Bo"})
    assert script.sections[0].items == (Speech("Hello Bo, calm and snake_case.", 2),)


@pytest.mark.parametrize("text, message", [
    ("Just text.\n", "s.md: missing title — add `title: …` to the front matter or a `# Title` line"),
    ("# T\n<!-- only notes -->\n", "s.md: script has no text — write the words to speak below the title; start sections with "
                                    "`## Heading` lines"),
    ("# T\n## A\n[bell]\n## B\n<!-- nothing -->\n", "s.md:4: section 'B' has no text — write the words to speak under the heading, or remove it"),
    ("# T\nHi.\n<!-- open\n\nmore\n", "s.md:3: unclosed comment <!-- — close it with -->"),
    ("# T\n## A (optinal)\nx\n", "s.md:2: unknown section flag 'optinal' in '## A (optinal)' — did you mean 'optional'? "
                                 "flags are (optional), (repeat 3) and (optional, repeat 3)"),
    ("# T\n## A (optional, twice)\nx\n", "s.md:2: unknown section flag 'twice' in '## A (optional, twice)' — "
                                         "flags are (optional), (repeat 3) and (optional, repeat 3)"),
    ("# T\n## A (repeat 0)\nx\n", "s.md:2: flag 'repeat 0' in '## A (repeat 0)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
    ("# T\n## A (repeat x)\nx\n", "s.md:2: flag 'repeat x' in '## A (repeat x)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
    ("# T\n## A (repeat)\nx\n", "s.md:2: flag 'repeat' in '## A (repeat)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
    ("# T\n## A (repeat 2, repeat 3)\nx\n", "s.md:2: flag 'repeat 3' in '## A (repeat 2, repeat 3)': repeat is given twice — give repeat once"),
    ("---\ntitle: T\nsections: []\n---\nHi\n", "s.md:3: sections are not allowed in front matter — start each section with a `## Heading` line"),
    ("---\ntitle: T\n---\n# X\n\n## A\n- one [pause 5x]\n", "s.md:7: [pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, "
                                                           "1m30s, 10m or 1h"),
    ("# T\n- [ ] a task\n", f"s.md:2: unknown marker [ ] — {UNKNOWN_HINT}"),
])
def test_markdown_errors(text, message):
    assert error(text, "md") == message


# ---------------------------------------------------------------------------------------------
# Whole script


def test_pauses_over_12h_in_total():
    text = "title: T\nsections:\n  - text: a [pause 7h]\n  - text: b [pause 5h]\n    repeat: 2\n"
    assert error(text) == ("s.yaml:4: the pauses add up to more than 12h by this one (17h so far) — "
                           "shorten the pauses or the repeats; a track is at most 12h")
    assert parse("title: T\nsections:\n  - text: a [pause 6h] b [pause 6h]\n").sections[0].items[-1] == Pause(21600, 21600, 3)


def test_script_without_speech_is_not_a_parse_error():
    assert parse("title: T\nsections: [{text: '[pause 1m]'}]\n").sections[0].items == (Pause(60, 60, 2),)


def test_unknown_format():
    with pytest.raises(ScriptError) as info:
        parse_script_text("x", path="s.json", fmt="json")
    assert str(info.value) == "s.json: unknown script format 'json' — use 'yaml', 'txt' or 'md'"


@pytest.mark.parametrize("fmt, hint", [
    ("yaml", "start it with `title: …` and a `sections:` list"),
    ("txt", "start it with front matter (---, title: …, ---) and then the words to speak"),
    ("md", "start it with a `# Title` line and then the words to speak"),
])
def test_blank_text(fmt, hint):
    assert error(" \n\t\n", fmt) == f"s.{fmt}: script is empty — {hint}"


def test_nul_in_text():
    assert error("# T\nHi\x00\n", "md") == ("s.md:2: the script contains a NUL character — this looks like a binary file; "
                                            "save the script as plain UTF-8 text")


# ---------------------------------------------------------------------------------------------
# Files


def test_load_script_formats_by_suffix(tmp_path):
    (tmp_path / "a.yml").write_text("title: A\nsections: [{text: Hi.}]\n")
    (tmp_path / "b.YAML").write_text("title: B\nsections: [{text: Hi.}]\n")
    (tmp_path / "c.txt").write_text("---\ntitle: C\n---\nHi.\n")
    (tmp_path / "d.md").write_text("# D\nHi.\n")
    for name in ("a.yml", "b.YAML", "c.txt", "d.md"):
        script = load_script(tmp_path / name)
        assert script.title == name[0].upper() and script.path == str(tmp_path / name)
    assert load_script(str(tmp_path / "d.md")).path == str(tmp_path / "d.md")


def test_load_script_vars_and_bom_and_crlf(tmp_path):
    path = tmp_path / "s.md"
    path.write_bytes("\ufeff# T\r\n\r\nHi {name}.\r\n[pause 5s]\r\n".encode())
    script = load_script(path, {"name": "Ana"})
    assert script.sections[0].items == (Speech("Hi Ana.", 3), Pause(5, 5, 4))
    assert script.vars == {"name": "Ana"}


def test_load_script_missing_and_folder(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert load_error(missing) == (f"{missing}: no such script — check the path and the file name "
                                   "(scripts end in .yaml, .yml, .txt or .md)")
    assert load_error(tmp_path) == f"{tmp_path}: is a folder, not a script — give a script file such as practice.yaml"


@pytest.mark.parametrize("name, shown", [("s.json", "'.json'"), ("script", "no suffix")])
def test_load_script_bad_suffix(tmp_path, name, shown):
    path = tmp_path / name
    path.write_text("title: T\n")
    assert load_error(path) == (f"{path}: unsupported script type ({shown}) — name the file .yaml or .yml (YAML), "
                                ".txt (plain text) or .md (Markdown)")


@pytest.mark.parametrize("data", [b"", b"  \n\n\t "])
def test_load_script_empty(tmp_path, data):
    path = tmp_path / "s.md"
    path.write_bytes(data)
    assert load_error(path) == f"{path}: script is empty — start it with a `# Title` line and then the words to speak"


def test_load_script_binary(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"---\ntitle: T\n---\n\x89PNG\x00\x00")
    assert load_error(path) == f"{path}:4: binary file, not a script (it contains NUL bytes) — give a .yaml, .txt or .md text file"


def test_load_script_not_utf8(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes("---\ntitle: T\n---\nCaf\u00e9 ok\n".encode() + "Caf\u00e9 bad\n".encode("latin-1"))
    assert load_error(path) == f"{path}:5: not UTF-8 text: byte 0xe9 cannot be decoded — save the file as UTF-8"


def test_load_script_utf16(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("---\ntitle: T\n---\nHi\n", encoding="utf-16")
    assert load_error(path) == f"{path}: script is UTF-16 text — save it as UTF-8"


def test_load_script_size_limit(tmp_path):
    path = tmp_path / "s.txt"
    head = b"---\ntitle: T\n---\n"
    path.write_bytes(head + b"a" * (MAX_SCRIPT_BYTES - len(head)))
    assert len(load_script(path).sections[0].items[0].text) == MAX_SCRIPT_BYTES - len(head)
    path.write_bytes(head + b"a" * (MAX_SCRIPT_BYTES + 1 - len(head)))
    assert load_error(path) == f"{path}: script is 1,000,001 bytes, over the 1,000,000-byte limit — split it into shorter scripts"


def test_load_script_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "practice.yaml"
    path.write_text("title: T\nsections:\n  - text: |\n      Fine.\n\n      [pause 30s..10s]\n")
    assert load_error(path) == (f"{path}:6: [pause 30s..10s]: the range runs backwards (30s is longer than 10s) — "
                                "write the shorter time first: [pause 10s..30s]")


# ---------------------------------------------------------------------------------------------
# Dataclasses validate themselves


def test_dataclass_validation():
    with pytest.raises(ScriptError, match="runs backwards"):
        Pause(30, 10, 1)
    with pytest.raises(ScriptError, match="is not 0 to 12h"):
        Pause(-1, None, 1)
    with pytest.raises(ScriptError, match="is not 0 to 12h"):
        Pause(float("nan"), None, 1)
    with pytest.raises(ScriptError, match="kind 'nap' is unknown"):
        Pause(1, 1, 1, "nap")
    with pytest.raises(ScriptError, match="empty speech"):
        Speech("  ", 1)
    with pytest.raises(ScriptError, match="repeat must be a whole number from 1 to 100, not 0"):
        Section("A", (), 1, repeat=0)
    with pytest.raises(ScriptError, match="title '' is empty"):
        Script("p", "", ())
    section = Section("A", [Bell(1)], 1)
    assert section.items == (Bell(1),)
    assert Script("p", "T", [section]).sections == (section,)


# ---------------------------------------------------------------------------------------------
# Sentences


@pytest.mark.parametrize("text, sentences", [
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
])
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize("make", [
    lambda n: split_sentences("." * n + "x"),
    lambda n: split_sentences("e.g" * n),
    lambda n: parse_script_text("# T\n## A" + " " * n + "b (" + " " * n + ")\nHi.\n", fmt="md"),
    lambda n: parse_script_text("# T\n##" + " " * n + "x\nHi.\n", fmt="md"),
    lambda n: parse_script_text("# T\nHi [pause" + " " * n + "x" + " " * n + "]\n", fmt="md"),
    lambda n: parse_script_text("# T\nHi [" + " " * n + "x" + " " * n + "]\n", fmt="md"),
    lambda n: parse_script_text("# T\n" + "<!--" * n, fmt="md"),
])
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
