"""Matching the words heard in a take with the script's sentences (pure: no audio), and the settings
that name a take (scripts, sections, rosters), checked where they are written."""

from __future__ import annotations

import pytest

from attune.delivery.roster import parse_roster_text
from attune.errors import ScriptError, SettingsError
from attune.request import RenderRequest, input_files
from attune.settings import TrackSettings
from attune.speech.recording.match import match_sentences, tokens
from attune.speech.recording.recognise import Word


def heard(text: str, gap_after: tuple[int, ...] = (), step_s: float = 0.35) -> list[Word]:
    out, t = [], 0.0
    for i, w in enumerate(text.split()):
        out.append(Word(w, t, t + step_s - 0.05))
        t += step_s + (1.0 if i in gap_after else 0.0)
    return out


S = ["Let the breath find its own pace.", "Rest here."]


def test_the_last_complete_reading_wins_and_the_false_start_is_extra():
    words = heard("Let the breath find. Let the breath find its own pace. Rest here.")
    m = match_sentences(S, words)
    assert [(f.index, f.first_word, f.last_word, f.score) for f in m.found] == [(0, 4, 10, 1.0), (1, 11, 12, 1.0)]
    assert [(x.first_word, x.last_word) for x in m.extra] == [(0, 3)]


def test_of_two_complete_readings_the_later_is_used():
    m = match_sentences(S, heard("Let the breath find its own pace. Let the breath find its own pace. Rest here."))
    assert m.found[0].first_word == 7 and m.extra[0].first_word == 0


def test_a_misheard_word_is_tolerated_and_a_misheard_last_word_stays_in_the_reading():
    m = match_sentences(["Out of the body.", "Rest here."], heard("out of the marzip. Rest here."))
    assert (m.found[0].first_word, m.found[0].last_word, m.found[0].score) == (0, 3, 0.75) and not m.extra


def test_a_sentence_never_read_is_missing_and_extra_speech_is_reported():
    # (a pause after "here.": speech run straight on to a reading is read as part of it)
    m = match_sentences(["Rest here.", "Something nobody said at all today."], heard("Rest here. And now for the news.", gap_after=(1,)))
    assert m.missing == (1,) and [(x.first_word, x.last_word) for x in m.extra] == [(2, 6)]


def test_a_false_start_read_in_full_loses_to_the_reading_after_it_whose_first_word_was_misheard():
    # Heard on a stress take (seed 23): the retake's "Or," heard as "for?", which left the false start the longer match.
    s = ["It means that you are human.", "Or, may this meeting be of real benefit to them.", "Rest here."]
    words = heard("It means that you are human. Or, may this meeting be for? May this meeting be to real benefit to them? Rest here.", gap_after=(5, 10, 20))
    m = match_sentences(s, words)
    assert [(f.first_word, f.last_word) for f in m.found] == [(0, 5), (11, 20), (21, 22)]
    assert [(x.first_word, x.last_word) for x in m.extra] == [(6, 10)]


def test_a_misheard_word_goes_to_the_sentence_on_its_side_of_the_longest_pause():
    # Heard on a stress take (seed 23): "that is all right" as "at a moral right", whose "a" matched the next sentence's first word.
    s = ["If no wish comes, that is all right.", "A weight in the chest, a knot in the stomach, a tightness in the throat."]
    words = heard("If no wish comes at a moral right, waiting for chest, not in the stomach, tied in the throat.", gap_after=(7,))
    m = match_sentences(s, words)
    assert [(f.first_word, f.last_word) for f in m.found] == [(0, 7), (8, 18)] and not m.extra


def test_a_first_word_heard_as_two_stays_in_the_reading():
    # "Whenever" heard as "When then, but" (seed 24): three words where the script has one.
    s = ["Name what is here.", "Whenever you are ready, you could open your eyes."]
    m = match_sentences(s, heard("Name what is here. When then, but you are ready. You could open your eyes.", gap_after=(3,)))
    assert [(f.first_word, f.last_word) for f in m.found] == [(0, 3), (4, 14)] and not m.extra


def test_a_sentence_misheard_word_after_word_is_still_found_between_its_neighbours():
    # Heard in the 20-minute bench take: "has lain awake at night" as "felt a way cut out".
    s = ["This person has been hurt.", "This person has lain awake at night, worrying.", "This person has made mistakes."]
    m = match_sentences(s, heard("This person has been hurt. This person felt a way cut out worrying. This person felt made mistakes.", gap_after=(4, 12)))
    assert [(f.first_word, f.last_word) for f in m.found] == [(0, 4), (5, 12), (13, 17)] and not m.missing


def test_a_false_start_whose_first_word_was_not_heard_is_left_out():
    # The stress set's "A friend, a child, or even an animal.": the false start heard without its "A",
    # the reading's "A" heard as "or". The sentence's own first word a few words back is not its start
    # when the reading's own words lie between: that is a false start, not a misheard word.
    sentences = ["Rest here.", "A friend, a child, or even an animal."]
    m = match_sentences(sentences, heard("Rest here. friend, a child, or friend, a child, or even an animal.", gap_after=(1, 4)))
    assert [(f.index, f.first_word, f.last_word) for f in m.found] == [(0, 0, 1), (1, 5, 12)]
    assert [(x.first_word, x.last_word) for x in m.extra] == [(2, 4)]


def test_the_sentences_last_word_heard_after_a_recogniser_loop_ends_its_reading():
    # "Not their file, or their diagnosis, but the person." read at 200 wpm, heard as a loop (the stress set's).
    sentences = ["Not their file, or their diagnosis, but the person.", "Others feel this too."]
    text = "Not in their file, but in their mind, but in their mind, but in their person. Others feel this too."
    m = match_sentences(sentences, heard(text, gap_after=(15,), step_s=0.15))
    assert [(f.index, f.first_word, f.last_word) for f in m.found] == [(0, 0, 15), (1, 16, 19)]


def test_words_compare_without_case_punctuation_plurals_or_digits():
    assert tokens("Ten breaths, out-breath; Let's") == tokens("ten breath out breath lets")


def test_recording_and_clean_are_read_where_they_are_written(tmp_path):
    from attune.script import load_script

    script = tmp_path / "s.yaml"
    script.write_text("title: T\nrecording: take.m4a\nclean: full\nsections:\n  - text: Hello there.\n    recording: other.flac\n", encoding="utf-8")
    loaded = load_script(script, {})
    assert loaded.settings.recording.file == tmp_path / "take.m4a" and loaded.settings.clean == "full"
    assert loaded.sections[0].settings.recording.file == tmp_path / "other.flac"
    script.write_text("title: T\nclean: loud\nsections:\n  - text: Hello there.\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"s\.yaml:2: unknown clean-up 'loud' — use one of: none, light, full"):
        load_script(script, {})
    with pytest.raises(SettingsError, match="unknown clean-up"):
        TrackSettings(clean="max")


def test_an_engine_named_above_speaks_instead_of_a_take_below():
    assert TrackSettings(engine="piper").over(TrackSettings(recording="take.m4a")).recording is None
    assert TrackSettings(recording="take.m4a").over(TrackSettings(engine="piper")).recording is not None


def test_the_take_is_an_input_file_of_the_render(tmp_path):
    take = tmp_path / "take.ogg"
    take.write_bytes(b"x")
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsections:\n  - text: Hello there.\n", encoding="utf-8")
    assert take in input_files(RenderRequest(script, settings=TrackSettings(recording=str(take))))


ROSTER = """practitioner: Dr. Rivera
title: Weekly
defaults: {recording: take.m4a}
clients:
  - name: Ana
    tracks:
      - script: s.yaml
  - name: Ben
    tracks:
      - script: s.yaml
        recording: ben.m4a
"""


def test_a_take_shared_by_every_client_cannot_say_their_name(tmp_path):
    (tmp_path / "s.yaml").write_text("title: T\nsections:\n  - text: Welcome, {name}.\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        parse_roster_text(ROSTER, path=tmp_path / "roster.yaml")
    assert str(caught.value) == (
        f"{tmp_path / 'roster.yaml'}:7: Ana / track 1: {{name}} changes from client to client, and one take (take.m4a) cannot say it"
        " — give this client a take of their own (recording: in the track), or take the placeholder out of the script"
    )
    (tmp_path / "s.yaml").write_text("title: T\nsections:\n  - text: Welcome.\n", encoding="utf-8")
    roster = parse_roster_text(ROSTER, path=tmp_path / "roster.yaml")
    assert [c.tracks[0].settings.recording.file.name for c in roster.clients] == ["take.m4a", "ben.m4a"]
