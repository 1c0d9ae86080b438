"""attune.script.prose: plain-text and Markdown scripts."""

from __future__ import annotations

import pytest

from attune.script import (
    Bell,
    Pause,
    Section,
    Speech,
)
from helpers.scripts import UNKNOWN_HINT, error, parse


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


def test_txt_empty_front_matter_then_title_from_the_file_name():
    assert parse("---\n---\nHello.\n", "txt").title == "S"


@pytest.mark.parametrize(
    "text, message",
    [
        ("---\ntitle: T\nlength: 10m\n", "s.txt:1: front matter opened with --- is not closed — add a line with --- after the settings"),
        ("---\ntitle: T\n---\n\n\n", "s.txt: script has no text — write the words to speak after the front matter"),
        (
            "---\ntitle: T\nsections: []\n---\nHi\n",
            "s.txt:3: sections are not allowed in front matter — in plain text the words after the front matter are the one section; "
            "use .md or .yaml for several",
        ),
        ("---\n- a\n---\nHi\n", "s.txt:2: front matter must be settings (title: …), not a list — write lines like `title: Evening calm` between the --- lines"),
        ("---\ntitle: T\nlenght: 5m\n---\nHi\n", "s.txt:3: unknown key 'lenght' — did you mean 'length'?"),
        (
            "---\ntitle: T\nrate: [\n---\nHi\n",
            "s.txt:3: YAML syntax error (while parsing a flow node, expected the node content, but found '<stream end>') in 'rate: [' — "
            "a value that starts with [ or { is read as a YAML list or mapping: write `text: |` and put the text on the next lines, indented",
        ),
        ("---\ntitle: T\nlength: 10\n---\nHi\n", "s.txt:3: length '10' has no unit — write 10s or 10m"),
        (
            "---\ntitle: T\n---\nOne.\nTwo.\n\nThree [pause 5x]\n",
            "s.txt:7: [pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h",
        ),
    ],
)
def test_txt_errors(text, message):
    assert error(text, "txt") == message


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


def test_markdown_emphasis_keeps_placeholder_underscores():
    script = parse("# T\n__Hello__ {first_name}, *_calm_* and snake_case.\n", "md", vars={"first_name": "Bo"})
    assert script.sections[0].items == (Speech("Hello Bo, calm and snake_case.", 2),)


@pytest.mark.parametrize(
    "text, message",
    [
        ("# T\n<!-- only notes -->\n", "s.md: script has no text — write the words to speak below the title; start sections with `## Heading` lines"),
        ("# T\n## A\n[bell]\n## B\n<!-- nothing -->\n", "s.md:4: section 'B' has no text — write the words to speak under the heading, or remove it"),
        ("# T\nHi.\n<!-- open\n\nmore\n", "s.md:3: unclosed comment <!-- — close it with -->"),
        (
            "# T\n## A (optinal)\nx\n",
            "s.md:2: unknown section flag 'optinal' in '## A (optinal)' — did you mean 'optional'? flags are (optional), (repeat 3), (voice en-gb), (rate 110), (engine pyttsx3), (background rain.ogg), (background_db -24), (interval_bells 10m), (recording take.m4a), comma-separated",
        ),
        (
            "# T\n## A (optional, twice)\nx\n",
            "s.md:2: unknown section flag 'twice' in '## A (optional, twice)' — flags are (optional), (repeat 3), (voice en-gb), (rate 110), (engine pyttsx3), (background rain.ogg), (background_db -24), (interval_bells 10m), (recording take.m4a), comma-separated",
        ),
        ("# T\n## A (repeat 0)\nx\n", "s.md:2: flag 'repeat 0' in '## A (repeat 0)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
        ("# T\n## A (repeat x)\nx\n", "s.md:2: flag 'repeat x' in '## A (repeat x)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
        ("# T\n## A (repeat)\nx\n", "s.md:2: flag 'repeat' in '## A (repeat)': repeat needs a whole number from 1 to 100 — write (repeat 3)"),
        ("# T\n## A (repeat 2, repeat 3)\nx\n", "s.md:2: flag 'repeat 3' in '## A (repeat 2, repeat 3)': repeat is given twice — give repeat once"),
        ("---\ntitle: T\nsections: []\n---\nHi\n", "s.md:3: sections are not allowed in front matter — start each section with a `## Heading` line"),
        (
            "---\ntitle: T\n---\n# X\n\n## A\n- one [pause 5x]\n",
            "s.md:7: [pause 5x]: pause '5x' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h",
        ),
        ("# T\n- [ ] a task\n", f"s.md:2: unknown marker [ ] — {UNKNOWN_HINT}"),
    ],
)
def test_markdown_errors(text, message):
    assert error(text, "md") == message
