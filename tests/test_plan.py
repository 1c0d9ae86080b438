"""The planner is pure: scripts built in code, clip lengths made up, timelines checked to the frame."""

import pytest

from attune.errors import LengthError
from attune.plan import PASSAGE_GAP_S, SENTENCE_GAP_S, make_plan, spoken_sentences
from attune.script import Bell, Pause, Script, Section, Speech
from attune.settings import TrackSettings
from attune.timebase import SAMPLE_RATE

SR = SAMPLE_RATE
BELL = 7 * SR


def script(*sections, **settings):
    return Script(path="t.yaml", title="T", sections=tuple(sections), settings=TrackSettings(**settings))


def section(name, *items, optional=False, repeat=1):
    return Section(name=name, items=tuple(items), line=1, optional=optional, repeat=repeat)


def clips(s, seconds=2.0):
    keys = {text: f"k{i}" for i, text in enumerate(spoken_sentences(s))}
    return keys, {k: int(seconds * SR) for k in keys.values()}


def plan(s, length_s=None, seconds=2.0, **kw):
    keys, frames = clips(s, seconds)
    return make_plan(s, keys, frames, length_s, bell_frames=BELL, **kw)


def test_fixed_timeline_is_back_to_back_in_frames():
    s = script(section("A", Speech("One. Two.", 1), Pause(5, 5, 2), Bell(3), Speech("Three.", 4)))
    p = plan(s)
    kinds = [(e.kind, e.start_frame, e.n_frames) for e in p.events]
    two_sentences = 2 * 2 * SR + int(SENTENCE_GAP_S * SR)
    assert kinds == [
        ("speech", 0, two_sentences),
        ("pause", two_sentences, 5 * SR),
        ("bell", two_sentences + 5 * SR, BELL),
        ("speech", two_sentences + 5 * SR + BELL, 2 * SR),
    ]
    assert p.n_frames == sum(e.n_frames for e in p.events)
    assert p.min_s == p.max_s == pytest.approx(p.duration_s)
    assert [s.offset_frames for s in p.events[0].sentences] == [0, 2 * SR + int(SENTENCE_GAP_S * SR)]


def test_adjacent_passages_get_a_gap():
    s = script(section("A", Speech("One.", 1), Speech("Two.", 2)))
    p = plan(s)
    assert [e.kind for e in p.events] == ["speech", "pause", "speech"]
    assert p.events[1].n_frames == int(PASSAGE_GAP_S * SR)


@pytest.mark.parametrize("length_s", [60.0, 90.0, 333.333, 406.0])
def test_exact_length_and_proportional_stretch(length_s):
    s = script(section("A", Speech("Hi.", 1), Pause(10, 100, 2), Speech("There.", 3), Pause(20, 300, 4), Speech("End.", 5)))
    p = plan(s, length_s)
    assert p.n_frames == round(length_s * SR)
    assert sum(e.n_frames for e in p.events) == p.n_frames
    pauses = [e.duration_s for e in p.events if e.kind == "pause"]
    # Stretched in proportion to their minimums (10 : 20) while neither is capped.
    if length_s <= 200:
        assert pauses[1] / pauses[0] == pytest.approx(2.0, rel=1e-3)
    assert p.min_s == pytest.approx(36.0)
    assert p.max_s == pytest.approx(406.0)


def test_capped_pause_passes_the_rest_on():
    s = script(section("A", Speech("Hi.", 1), Pause(10, 15, 2), Speech("There.", 3), Pause(10, None, 4)))
    p = plan(s, 100.0)
    pauses = [e.duration_s for e in p.events if e.kind == "pause"]
    assert pauses[0] == pytest.approx(15.0, abs=1e-4)
    assert pauses[1] == pytest.approx(100 - 4 - 15, abs=1e-4)
    assert p.max_s is None


def test_open_ended_pause_reaches_hours():
    s = script(section("A", Speech("Sleep well.", 1), Pause(10, None, 2)))
    p = plan(s, 3 * 3600.0)
    assert p.n_frames == 3 * 3600 * SR


def test_drops_optional_sections_last_first():
    s = script(
        section("A", Speech("a.", 1), Pause(10, 100, 1)),
        section("B", Speech("b.", 2), Pause(60, 60, 2), optional=True),
        section("C", Speech("c.", 3), Pause(60, 60, 3), optional=True),
        section("D", Speech("d.", 4)),
    )
    full = plan(s, 200.0)
    assert full.dropped_sections == ()
    one = plan(s, 120.0)
    assert one.dropped_sections == ("C",)
    assert {e.section for e in one.events} == {"A", "B", "D"}
    both = plan(s, 40.0)
    assert both.dropped_sections == ("B", "C")
    assert both.n_frames == 40 * SR


def test_impossible_length_names_the_range():
    s = script(section("A", Speech("a.", 1), Pause(4 * 60 + 10, 11 * 60 + 28, 2)))
    with pytest.raises(LengthError) as info:
        plan(s, 60.0)
    assert str(info.value) == "t.yaml: cannot make 1m from this script — this script fits between 4m12s and 11m30s"
    with pytest.raises(LengthError):
        plan(s, 3600.0)


def test_without_length_uses_script_length_else_minimums():
    s = script(section("A", Speech("a.", 1), Pause(10, 100, 2)), length_s=50.0)
    assert plan(s).duration_s == pytest.approx(50.0)
    s2 = script(section("A", Speech("a.", 1), Pause(10, 100, 2)))
    assert plan(s2).duration_s == pytest.approx(12.0)


def test_repeat_and_bells_and_json():
    s = script(section("Phrases", Speech("May you be well.", 1), Pause(3, 3, 1), repeat=3), bells_start=True, bells_end=True)
    p = plan(s)
    assert [e.kind for e in p.events] == ["bell"] + ["speech", "pause"] * 3 + ["bell"]
    doc = p.to_json()
    assert set(doc) == {"duration_s", "min_s", "max_s", "fits", "events"}
    assert set(doc["events"][0]) == {"kind", "start_s", "duration_s", "section", "text", "voice", "bed"}
    assert doc["events"][1] == {
        "kind": "speech", "start_s": 7.0, "duration_s": 2.0, "section": "Phrases", "text": "May you be well.", "voice": None, "bed": None
    }  # fmt: skip
    assert p.chapters() == [("Phrases", 0.0, pytest.approx(p.duration_s))]
    assert len(p.cues()) == 3


def test_pause_only_script_plans():
    s = script(section("Sit", Bell(1), Pause(60, None, 2), Bell(3)))
    p = plan(s, 600.0)
    assert [e.kind for e in p.events] == ["bell", "pause", "bell"]
    assert p.n_frames == 600 * SR


def test_a_length_that_cannot_be_rounded_is_a_bug_not_another_length(monkeypatch):
    import attune.plan

    monkeypatch.setattr(attune.plan, "_round_preserving_total", lambda slots, values, total: None)
    s = script(section("A", Speech("a.", 1), Pause(10, 100, 2)))
    with pytest.raises(attune.plan.PlanningBug, match=r"^t\.yaml: the plan for 50s \(2205000 frames\) could not be rounded to whole frames$"):
        make_plan(s, {"a.": "k"}, {"k": SR}, 50.0, bell_frames=BELL)
