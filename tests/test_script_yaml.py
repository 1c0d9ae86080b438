"""attune.script.yaml_reader: YAML scripts, every error with its line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.script import (
    Bell,
    Pause,
    Script,
    Section,
    Speech,
)
from attune.settings import Background, TrackSettings
from helpers.scripts import error, parse


@pytest.mark.parametrize(
    "vars_yaml, message",
    [
        ("vars: {name: }", "s.yaml:2: vars value for 'name' is empty — give it a value, e.g. name: friend, or name: \"\" for nothing"),
        ("vars: {my-name: a}", "s.yaml:2: vars name 'my-name' is not a placeholder name — names are letters, digits and _, not starting with a digit"),
        ("vars: [a]", "s.yaml:2: vars must be a mapping of placeholder values, not a list — write vars: then lines like `  name: friend`"),
        ("vars: {name: [a]}", "s.yaml:2: vars value for 'name' must be text or a number, not a list — write name: friend"),
        ("vars: {a: 1, a: 2}", "s.yaml:2: duplicate vars name 'a' — give each name once"),
    ],
)
def test_vars_errors(vars_yaml, message):
    assert error(f"title: T\n{vars_yaml}\nsections: [{{text: hi}}]\n") == message


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
        Section("Arrive", (Speech("Welcome, friend.", 18), Pause(5, 5, 18), Pause(18, 18, 20, "breath"), Speech("Notice the breath.", 20)), 16),
        Section("Section 2", (Speech("Let the body soften.", 22), Pause(10, 120, 23), Speech("Rest.", 25), Pause(30, None, 25)), 21, optional=True, repeat=2),
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


@pytest.mark.parametrize(
    "text, message",
    [
        ("title: T\nlenght: 10m\nsections: [{text: hi}]\n", "s.yaml:2: unknown key 'lenght' — did you mean 'length'?"),
        ("Title: T\nsections: [{text: hi}]\n", "s.yaml:1: unknown key 'Title' — did you mean 'title'?"),
        (
            "title: T\nmusic: x\nsections: [{text: hi}]\n",
            "s.yaml:2: unknown key 'music' — the script keys are title, author, description, language, voice, rate, engine, pitch, length, "
            "background, background_db, bells, interval_bells, vars, recording, clean, sections",
        ),
        ("title: T\nsections:\n  - text: hi\n    txet: no\n", "s.yaml:4: unknown key 'txet' — did you mean 'text'?"),
        (
            "title: T\nsections:\n  - text: hi\n    when: now\n",
            "s.yaml:4: unknown key 'when' — the section keys are name, text, optional, repeat, voice, rate, engine, background, background_db, interval_bells, recording",
        ),
        ("title: T\ntitle: U\nsections: [{text: hi}]\n", "s.yaml:2: duplicate key 'title' — give each key once"),
        (
            "title: T\n[a]: 1\nsections: [{text: hi}]\n",
            "s.yaml:2: a script key must be a name, not a list — the keys are title, author, description, language, voice, rate, engine, pitch, "
            "length, background, background_db, bells, interval_bells, vars, recording, clean, sections",
        ),
        ("sections: [{text: hi}]\n", "s.yaml: missing title — add `title: …` at the top of the script"),
        ("title:\nsections: [{text: hi}]\n", "s.yaml: missing title — add `title: …` at the top of the script"),
        ("title: '  '\nsections: [{text: hi}]\n", "s.yaml:1: title is empty — write title: followed by the practice's name"),
        ("title: [a]\nsections: [{text: hi}]\n", "s.yaml:1: title must be text, not a list — write title: followed by the text on the same line"),
        ("title: T\n", "s.yaml: missing sections — add `sections:` with one `- text: …` entry per part of the practice"),
        ("title: T\nsections: 5\n", "s.yaml:2: sections must be a list, not 5 — write `sections:` then one `- name: …` / `  text: …` entry per section"),
        ("title: T\nsections: []\n", "s.yaml:2: sections is empty — write `sections:` then one `- name: …` / `  text: …` entry per section"),
        (
            "title: T\nsections:\n  - hello\n",
            "s.yaml:3: section 1 must be a mapping with text:, not 'hello' — write `sections:` then one `- name: …` / `  text: …` entry per section",
        ),
        ("title: T\nsections:\n  - name: Empty\n", "s.yaml:3: section 'Empty' has no text — add `text:` with the words to speak, or remove the section"),
        ("title: T\nsections:\n  - text: ''\n", "s.yaml:3: section 'Section 1' has no text — add `text:` with the words to speak, or remove the section"),
        ("title: T\nsections:\n  - text:\n", "s.yaml:3: section 'Section 1' has no text — add `text:` with the words to speak, or remove the section"),
        (
            "title: T\nsections:\n  - text: hi\n  - name: B\n    text: |\n\n",
            "s.yaml:5: section 'B' has no text — add `text:` with the words to speak, or remove the section",
        ),
        (
            "title: T\nsections:\n  - text:\n      - a\n",
            "s.yaml:4: text must be the words to speak, not a list — a text starting with [ is read as a YAML list: write `text: |` and the "
            "text on the next lines, indented",
        ),
        ("title: T\nsections:\n  - text: hi\n    repeat: x\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 'x' — write repeat: 2"),
        ("title: T\nsections:\n  - text: hi\n    repeat: 0\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 0 — write repeat: 2"),
        ("title: T\nsections:\n  - text: hi\n    repeat: 101\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 101 — write repeat: 2"),
        ("title: T\nsections:\n  - text: hi\n    repeat: 2.0\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not 2.0 — write repeat: 2"),
        ("title: T\nsections:\n  - text: hi\n    repeat: true\n", "s.yaml:4: repeat must be a whole number from 1 to 100, not true — write repeat: 2"),
        (
            "title: T\nsections:\n  - text: hi\n    optional: maybe\n",
            "s.yaml:4: optional must be true or false, not 'maybe' — write optional: true or optional: false",
        ),
        (
            "title: T\nrate: fast\nsections: [{text: hi}]\n",
            "s.yaml:2: rate must be a number from 80 to 400, not 'fast' — give words per minute, e.g. rate: 150",
        ),
        ("title: T\nrate: 500\nsections: [{text: hi}]\n", "s.yaml:2: rate must be a number from 80 to 400, not 500 — give words per minute, e.g. rate: 150"),
        ("title: T\nrate: .nan\nsections: [{text: hi}]\n", "s.yaml:2: rate must be a number from 80 to 400, not .nan — give words per minute, e.g. rate: 150"),
        ("title: T\npitch: 50.5\nsections: [{text: hi}]\n", "s.yaml:2: pitch must be a whole number from 0 to 100, not 50.5 — 50 is normal, e.g. pitch: 50"),
        ("title: T\npitch: 150\nsections: [{text: hi}]\n", "s.yaml:2: pitch must be a whole number from 0 to 100, not 150 — 50 is normal, e.g. pitch: 50"),
        (
            "title: T\npitch:\nsections: [{text: hi}]\n",
            "s.yaml:2: pitch must be a whole number from 0 to 100, not an empty value — 50 is normal, e.g. pitch: 50",
        ),
        ("title: T\nlength: 600\nsections: [{text: hi}]\n", "s.yaml:2: length '600' has no unit — write 600s or 10m"),
        ("title: T\nlength: 5\nsections: [{text: hi}]\n", "s.yaml:2: length '5' has no unit — write 5s or 5m"),
        (
            "title: T\nlength: 10 minutes\nsections: [{text: hi}]\n",
            "s.yaml:2: length '10 minutes' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h",
        ),
        ("title: T\nlength: 13h\nsections: [{text: hi}]\n", "s.yaml:2: length '13h' is longer than the 12h limit — use a duration of 12h or less"),
        ("title: T\nlength: 0s\nsections: [{text: hi}]\n", "s.yaml:2: length '0s' is zero — give the track's length, e.g. length: 10m"),
        ("title: T\nlength: [10m]\nsections: [{text: hi}]\n", "s.yaml:2: length must be a duration such as 10m, not a list — write length: 10m"),
        (
            "title: T\nbackground: [a]\nsections: [{text: hi}]\n",
            "s.yaml:2: background must be a name or a mapping, not a list — write background: drone, or a mapping such as {kind: drone, gain_db: -20}",
        ),
        (
            "title: T\nbackground: {a: !!python/object/apply:os.system [echo]}\nsections: [{text: hi}]\n",
            "s.yaml:2: background: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system' — "
            "write plain values, e.g. {kind: drone, gain_db: -20}",
        ),
        (
            "title: T\nbells: sometimes\nsections: [{text: hi}]\n",
            "s.yaml:2: bells must be true, false or a mapping, not 'sometimes' — write bells: true, or bells: {start: true, end: false}",
        ),
        (
            "title: T\nbells: {start: maybe}\nsections: [{text: hi}]\n",
            "s.yaml:2: bells.start must be true or false, not 'maybe' — write bells.start: true or bells.start: false",
        ),
        ("title: T\nbells: {strat: true}\nsections: [{text: hi}]\n", "s.yaml:2: unknown key 'strat' — did you mean 'start'?"),
        ("- a\n- b\n", "s.yaml:1: a YAML script must be a mapping of settings, not a list — start it with `title: …` and a `sections:` list"),
        ("just words\n", "s.yaml:1: a YAML script must be a mapping of settings, not 'just words' — start it with `title: …` and a `sections:` list"),
        ("# only a comment\n", "s.yaml: script is empty — start it with `title: …` and a `sections:` list"),
        (
            "title: T\n---\ntitle: U\n",
            "s.yaml:2: YAML syntax error (expected a single document in the stream, but found another document) in '---' — "
            "a script is one YAML document: remove the second --- line",
        ),
        (
            "title: T\nsections:\n  - text: Breathe: in\n",
            "s.yaml:3: YAML syntax error (mapping values are not allowed here) in '- text: Breathe: in' — check the indentation and quoting "
            "on this line: text containing ': ' or ' #', or starting with [, {, *, &, ! or a quote, must be quoted or written as a block "
            "(text: |)",
        ),
        (
            "title: T\nsections:\n  - text: [bell] Welcome.\n",
            "s.yaml:3: YAML syntax error (while parsing a block mapping, expected <block end>, but found '<scalar>') in "
            "'- text: [bell] Welcome.' — a value that starts with [ or { is read as a YAML list or mapping: write `text: |` and put the "
            "text on the next lines, indented",
        ),
        ("title: T\nsections: [{text: hi}]\n\x01\n", "s.yaml:3: control character U+0001 is not allowed in YAML — delete it"),
        ("a: &x [*x]\nb: " + "[" * 1000 + "\n", "s.yaml: the YAML is nested too deeply — a script needs only a few levels of nesting"),
    ],
)
def test_yaml_errors(text, message):
    assert error(text) == message


def test_yaml_error_with_crlf_line_endings():
    assert error("title: T\r\nsections:\r\n  - text: |\r\n      Hi.\r\n      [pause 5x]\r\n").startswith("s.yaml:5: [pause 5x]")


def test_markdown_comment_keeps_line_numbers():
    assert error("# T\n<!--\nline\nline\n-->\n\nSay [pause 5x]\n", "md").startswith("s.md:7: [pause 5x]")


@pytest.mark.parametrize(("bells", "start_end"), [("yes", (True, True)), ("false", (False, False)), ("{start: true}", (True, None)), ("{end: true, start: no}", (False, True))])
def test_bells_are_both_or_each(bells, start_end):
    # The one settings reader takes `bells` as a rosters does (both bells) or as a mapping (each).
    settings = parse(f"title: T\nbells: {bells}\nsections: [{{text: hi}}]\n", "yaml").settings
    assert (settings.bells_start, settings.bells_end) == start_end
