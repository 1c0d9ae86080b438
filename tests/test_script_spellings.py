"""Pause markers as teachers write them: unit words, clock times, `[silence …]`, `[short pause]` /
`[long pause]`, Meditation-Generator's `[PAUSE:N]` (also Markdown-escaped), and refusals that keep the
teacher's number. Each spelling is planned by `attune plan --json` to the length it says."""

from __future__ import annotations

import json

import pytest

from attune.script import Pause, Speech
from attune.script.spellings import LONG_PAUSE_S, SHORT_PAUSE_S, compact_duration, meant_duration
from helpers.cli import invoke
from helpers.scripts import error, parse

#: The issue's six spellings and the lengths they say.
SIX = {
    "[pause 5 seconds]": 5.0,
    "[pause 1 min]": 60.0,
    "[pause 1 minute 30 seconds]": 90.0,
    "[pause 0:30]": 30.0,
    "[silence 30s]": 30.0,
    "[long pause]": LONG_PAUSE_S,
}


@pytest.mark.parametrize("marker, seconds", SIX.items())
def test_each_spelling_plans_to_the_length_it_says(tmp_path, marker, seconds):
    path = tmp_path / "sit.txt"
    path.write_text(f"{marker}\n", encoding="utf-8")
    result = invoke("plan", path, "--json")
    assert result.exit_code == 0, result.stderr
    planned = json.loads(result.stdout)
    assert planned["duration_s"] == seconds
    assert [(e["kind"], e["duration_s"]) for e in planned["events"]] == [("pause", seconds)]


@pytest.mark.parametrize(
    "marker, low, high",
    [
        ("[pause 5 sec]", 5, 5),
        ("[pause 5 s]", 5, 5),  # was a near miss (spoken); now the pause it plainly means
        ("[pause 2 mins]", 120, 120),
        ("[pause 1 hour]", 3600, 3600),
        ("[pause 500 milliseconds]", 0.5, 0.5),
        ("[pause 1 min, 30 sec]", 90, 90),
        ("[pause 1 minute and 30 seconds]", 90, 90),
        ("[pause 1:30]", 90, 90),
        ("[pause 1:00:00]", 3600, 3600),
        ("[Silence 1 minute]", 60, 60),
        ("[short pause]", SHORT_PAUSE_S, SHORT_PAUSE_S),
        ("[Long  Pause]", LONG_PAUSE_S, LONG_PAUSE_S),
        ("[pause 10 seconds..2 minutes]", 10, 120),
        ("[silence 0:30..]", 30, None),
        ("[PAUSE:3]", 3, 3),
        ("[pause:3]", 3, 3),
        ("[Pause : 10]", 10, 10),
        ("\\[PAUSE:5]", 5, 5),
        ("\\[PAUSE:5\\]", 5, 5),
    ],
)
def test_spellings_are_pauses(marker, low, high):
    script = parse(f"---\ntitle: T\n---\nSettle. {marker} Rest.\n", "txt")
    assert script.sections[0].items == (Speech("Settle.", 4), Pause(float(low), None if high is None else float(high), 4, "pause"), Speech("Rest.", 4))
    assert not script.warnings


@pytest.mark.parametrize(
    "marker, message",
    [
        # A number alone: seconds or minutes? Refused, with both markers it could be, the number kept.
        ("[pause 5]", "[pause 5]: pause '5' has no unit (a number alone could be seconds or minutes) — write [pause 5s] or [pause 5m]"),
        ("[silence 30]", "[silence 30]: pause '30' has no unit (a number alone could be seconds or minutes) — write [silence 30s] or [silence 30m]"),
        ("[pause five]", "[pause five]: pause 'five' has no unit (a number alone could be seconds or minutes) — write [pause 5s] or [pause 5m]"),
        # A number word with its unit is clear, but Attune writes numbers as digits.
        ("[pause five seconds]", "[pause five seconds]: pause 'five seconds' has no unit — write [pause 5s]"),
        ("[pause 10..2m]", "[pause 10..2m]: pause '10' has no unit (a number alone could be seconds or minutes) — write [pause 10s..2m] or [pause 10m..2m]"),
        ("[pause 5 moments]", "[pause 5 moments]: pause '5 moments' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
        ("[pause 1:75]", "[pause 1:75]: pause '1:75' is not a duration — write it like 90s, 500ms, 1m30s, 10m or 1h"),
        ("[paws 5]", "unknown marker [paws 5] — did you mean [pause 5s] or [pause 5m]?"),
        ("[paws 5 seconds]", "unknown marker [paws 5 seconds] — did you mean [pause 5 seconds]?"),
        ("[PAUS:3]", "unknown marker [PAUS:3] — "),
        ("[medium pause]", "unknown marker [medium pause] — "),
    ],
)
def test_ambiguous_spellings_are_refused_with_the_teachers_number(marker, message):
    assert error(f"---\ntitle: T\n---\n{marker}\n", "txt").startswith(f"s.txt:4: {message}")


def test_spaces_just_inside_the_brackets_are_still_a_near_miss():
    script = parse("---\ntitle: T\n---\nRest [ pause 5 seconds ] now.\n", "txt")
    assert [str(w) for w in script.warnings] == ["s.txt:4: [ pause 5 seconds ] is not a marker (spaces), so it will be spoken — write [pause 5s]"]


def test_compact_and_meant_durations():
    assert compact_duration("1 min 30 sec") == "1m30s"
    assert compact_duration("0:05") == "5s"
    assert compact_duration("2:00:30") == "2h30s"
    assert compact_duration("5 fortnights") == "5 fortnights"
    assert compact_duration("1:99:00") == "1:99:00"
    assert meant_duration("7") == "7s or 7m"
    assert meant_duration("twenty minutes") == "20m"
    assert meant_duration("a minute") == "1m"
    assert meant_duration("soon") is None
