"""Interval bells: `interval_bells: 15m` (script, section, roster, `--interval-bells`) rings a softer
strike at exact multiples of the track's clock inside long pauses, `[bells every 5m]` at multiples of
its own pause's; never in a pause's first or last minute, never over speech; shown by `plan` and, with
`--bell-chapters`, as chapters. The rendered files are decoded and the strikes found in the sound."""

from __future__ import annotations

import json

import pytest

from attune.plan import estimated_plan
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import bell_strikes, decode_mono
from helpers.cli import invoke
from helpers.scripts import error, parse

SR = 2000  # the strikes are found at 2 kHz (the bowl's strongest modes are 246 and 679 Hz)


def rings(plan) -> list[float]:
    return [e.start_s for e in plan.events if e.kind == "interval_bell"]


SIT = """\
title: Sit
interval_bells: 15m
sections:
  - name: Sitting
    text: |
      Settle in. [pause 1m..]
      Come back now.
"""


def test_a_45_minute_sit_rings_at_15_and_30_minutes_on_the_track_clock():
    plan = estimated_plan(parse(SIT), 140, 45 * 60)
    assert rings(plan) == [900.0, 1800.0]  # 45:00 is the end: no bell there
    assert plan.duration_s == 45 * 60
    bells = [e for e in plan.events if e.kind == "interval_bell"]
    assert all(e.duration_s == 7.0 for e in bells)
    # The pause is cut around each bell; the track keeps its length, to the frame.
    assert sum(e.n_frames for e in plan.events) == plan.n_frames


def test_no_bell_in_a_pauses_first_or_last_minute_or_over_speech():
    plan = estimated_plan(parse(SIT.replace("15m", "1m")), 140, 5 * 60)
    pause = next(e for e in plan.events if e.kind == "pause")
    closing = [e for e in plan.events if e.kind == "speech"][-1]
    assert rings(plan) == [120.0, 180.0]  # 60 is in the pause's first minute, 240 in its last
    assert pause.start_s + 60 <= 120.0 and closing.start_s - 60 >= 180.0 + 7
    text = SIT.replace("15m", "1m").replace("Settle in. [pause 1m..]", "Settle in. [pause 30s] Now rest. [pause 1m..]")
    # The long pause now starts at 32 s, so 60 s is in its first minute; the 30 s pause is too short for any.
    assert rings(estimated_plan(parse(text), 140, 5 * 60)) == [120.0, 180.0]


def test_bells_every_marker_counts_from_its_own_pause():
    script = parse("title: T\nsections:\n  - text: |\n      Settle in. [pause 20m..] [bells every 5m]\n      Come back.\n")
    plan = estimated_plan(script, 140, 30 * 60)
    start = next(e for e in plan.events if e.kind == "pause").start_s
    assert [round(at - start, 6) for at in rings(plan)] == [300.0, 600.0, 900.0, 1200.0, 1500.0]
    before = parse("title: T\nsections:\n  - text: |\n      Settle in. [bells every 5m] [pause 20m..]\n      Come back.\n")
    assert rings(estimated_plan(before, 140, 30 * 60)) == rings(plan)


def test_a_section_setting_wins_over_the_track_and_off_turns_them_off():
    text = SIT.replace("  - name: Sitting\n", "  - name: Sitting\n    interval_bells: 10m\n")
    assert rings(estimated_plan(parse(text), 140, 45 * 60)) == [600.0, 1200.0, 1800.0, 2400.0]
    assert rings(estimated_plan(parse(SIT.replace("15m", "off")), 140, 45 * 60)) == []
    md = parse("# Sit\n## Sitting (interval_bells 20 minutes)\nSettle in. [pause 1m..]\n", "md")
    assert rings(estimated_plan(md, 140, 45 * 60)) == [1200.0, 2400.0]
    assert rings(estimated_plan(parse(SIT), 140, 45 * 60, interval_bells_s=0.0)) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("Rest. [bells every 5m]", "s.txt:4: [bells every …] is not beside a pause — write it right after the pause it rings in, e.g. [pause 30m..] [bells every 10m]"),
        ("[pause 20m..] [bells every 5]", "s.txt:4: [bells every 5]: interval '5' has no unit — write [bells every 5m]"),
        ("[pause 20m..] [bells every 30s]", "s.txt:4: [bells every 30s]: interval '30s' is shorter than a minute — ring interval bells every minute or more"),
        ("[pause 20m..] [bells]", "s.txt:4: unknown marker [bells] — write [bells every 10m] (in a long pause) for interval bells"),
    ],
)
def test_marker_errors(text, message):
    assert error(f"---\ntitle: T\n---\n{text}\n", "txt").startswith(message)


def test_setting_errors_and_a_short_pause_warning():
    assert error("title: T\ninterval_bells: 10\nsections: [{text: hi}]\n") == "s.yaml:2: interval_bells '10' has no unit — write 10m for every 10m"
    assert error("title: T\ninterval_bells: [1]\nsections: [{text: hi}]\n") == "s.yaml:2: interval_bells must be a duration such as 10m, not a list — write interval_bells: 10m"
    script = parse("---\ntitle: T\n---\nRest. [pause 10s..1m] [bells every 5m]\n", "txt")
    assert [w.line for w in script.warnings] == [4]
    assert "so no bell will ring in it" in script.warnings[0].message


def test_plan_shows_them_and_the_flag_sets_them(tmp_path):
    path = tmp_path / "silent.txt"
    path.write_text("[pause 1m..]\n", encoding="utf-8")
    result = invoke("plan", path, "--length", "45m", "--interval-bells", "15 minutes", "--json")
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)["events"]
    assert [(e["kind"], e["start_s"]) for e in events if e["kind"] != "pause"] == [("interval_bell", 900.0), ("interval_bell", 1800.0)]
    text = invoke("plan", path, "--length", "45m", "--interval-bells", "15m").stdout
    assert " 15:00.000  i-bell    7.000s" in text and " 30:00.000  i-bell" in text
    bad = invoke("plan", path, "--interval-bells", "15")
    assert bad.exit_code == 2 and "--interval-bells '15' has no unit — write 15m for every 15m" in bad.stderr
    check = invoke("check", path, "--interval-bells", "10m")
    assert check.exit_code == 0 and "interval bell" not in check.stdout  # no length: every pause at its minimum


def test_chapters_at_interval_bells():
    plan = estimated_plan(parse(SIT), 140, 45 * 60)
    assert [name for name, _, _ in plan.chapters()] == ["Sitting"]
    assert [(name, start) for name, start, _ in plan.chapters(at_interval_bells=True)] == [("Sitting", 0.0), ("Sitting (15:00)", 900.0), ("Sitting (30:00)", 1800.0)]


def test_a_roster_track_takes_interval_bells(tmp_path):
    from attune.delivery.roster import load_roster

    (tmp_path / "sit.yaml").write_text(SIT, encoding="utf-8")
    roster = tmp_path / "clients.yaml"
    roster.write_text(
        "practitioner: Dr. R\ndefaults: {interval_bells: 5m}\nclients:\n  - name: Ana\n    tracks:\n      - {script: sit.yaml, length: 20m, interval_bells: 10 minutes}\n"
        "  - name: Bo\n    tracks:\n      - {script: sit.yaml, length: 20m}\n",
        encoding="utf-8",
    )
    tracks = [track for client in load_roster(roster).clients for track in client.tracks]
    assert [t.settings.interval_bells_s for t in tracks] == [600.0, 300.0]


@pytest.mark.engine
def test_rendered_interval_bells_are_soft_strikes_at_exact_times(tmp_path, shared_engine_cache):
    """A 3m20s sit with `interval_bells: 1m` and a closing bell, rendered by espeak to MP3 and decoded:
    the strikes found in the sound are soft ones at 1:00 and 2:00 (±10 ms) and the closing bell, and
    nothing else; each soft strike peaks about 6 dB under the closing bell; with `--bell-chapters` the
    file's chapters start at the interval bells."""
    import math

    from mutagen.id3 import ID3

    script = tmp_path / "sit.yaml"
    script.write_text("title: Sit\ninterval_bells: 1m\nbells: {end: true}\nsections:\n  - name: Sitting\n    text: |\n      [pause 1m..]\n      Come back now.\n", encoding="utf-8")
    out = tmp_path / "sit.mp3"
    result = render(RenderRequest(script, out, TrackSettings(length_s=200), bell_chapters=True), cache_dir=shared_engine_cache)
    closing = next(e for e in result.plan.events if e.kind == "bell").start_s
    x = decode_mono(out, SR)
    found = bell_strikes(x, SR)
    assert [kind for _, kind in found] == ["soft", "soft", "bell"]
    for (at, _), expected in zip(found, [60.0, 120.0, closing]):
        assert abs(at - expected) <= 0.010, (at, expected)
    peak = [float(abs(x[round(at * SR) : round((at + 1) * SR)]).max()) for at, _ in found]
    assert -8.0 <= 20 * math.log10(peak[0] / peak[2]) <= -4.0
    chapters = sorted((frame.start_time, frame.sub_frames["TIT2"].text[0]) for frame in ID3(out).getall("CHAP"))
    assert chapters == [(0, "Sitting"), (60000, "Sitting (1:00)"), (120000, "Sitting (2:00)")]


HELD_OUT = """\
title: Evening sit
description: Forty-five minutes of sitting, with soft bells at each quarter hour.
interval_bells: 15m
sections:
  - name: Arriving
    text: |
      Welcome to this evening sit. Find a posture that is upright and at ease. [breath 2]
      Let the day fall away behind you. [pause 10s..1m]
  - name: Sitting
    text: |
      Rest your attention on the breath, or simply on sitting here. [pause 5m..]
      If you have drifted, notice where you are, and begin again. [pause 5m..]
  - name: Closing
    text: |
      In a moment the sit will end. Stay with this breath.
"""


@pytest.mark.engine
@pytest.mark.long
def test_a_held_out_45_minute_sit_rings_at_15_and_30_minutes(tmp_path, shared_engine_cache):
    script = tmp_path / "evening.yaml"
    script.write_text(HELD_OUT, encoding="utf-8")
    out = tmp_path / "evening.mp3"
    render(RenderRequest(script, out, TrackSettings(length_s=45 * 60)), cache_dir=shared_engine_cache)
    x = decode_mono(out, SR)
    assert abs(x.size / SR - 2700.0) < 0.05
    found = bell_strikes(x, SR)
    print("strikes found:", found)
    assert [kind for _, kind in found] == ["soft", "soft"]
    assert abs(found[0][0] - 900.0) <= 0.010 and abs(found[1][0] - 1800.0) <= 0.010
