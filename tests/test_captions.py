"""WebVTT output of attune.captions."""

from __future__ import annotations

import pytest

from attune.media.captions import Cue, timestamp, vtt_text, write_vtt


def test_exact_output():
    cues = [Cue(1.25, 4.0, "Welcome."), Cue(4.5, 3661.0015, "Let the breath settle.")]
    assert vtt_text(cues) == ("WEBVTT\n\n1\n00:00:01.250 --> 00:00:04.000\nWelcome.\n\n2\n00:00:04.500 --> 01:01:01.002\nLet the breath settle.\n")


def test_escaping_and_no_arrow_in_text():
    text = vtt_text([Cue(0, 1, "Tom & Jerry <b>bold</b> --> next")])
    assert text.splitlines()[4] == "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; --&gt; next"
    assert text.count("-->") == 1


def test_blank_lines_cannot_end_a_cue_early_and_empty_cues_are_dropped():
    text = vtt_text([Cue(0, 1, "one\n\n two \r\nthree"), Cue(1, 2, "  \n "), Cue(2, 3, "four")])
    assert text == "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\none\ntwo\nthree\n\n2\n00:00:02.000 --> 00:00:03.000\nfour\n"


def test_cues_are_ordered_by_start():
    text = vtt_text([Cue(5, 6, "b"), Cue(1, 2, "a")])
    assert text.index("\na\n") < text.index("\nb\n")


def test_no_cues():
    assert vtt_text([]) == "WEBVTT\n"


@pytest.mark.parametrize("seconds, expected", [(0, "00:00:00.000"), (59.9994, "00:00:59.999"), (59.9996, "00:01:00.000"), (36000.5, "10:00:00.500")])
def test_timestamp(seconds, expected):
    assert timestamp(seconds) == expected


def test_invalid_cue():
    with pytest.raises(ValueError):
        Cue(2, 1, "backwards")
    with pytest.raises(ValueError):
        Cue(-1, 1, "negative")


def test_write_vtt_is_utf8_and_atomic(tmp_path):
    path = tmp_path / "t.vtt"
    write_vtt(path, [Cue(0, 1.5, "Zoë — 慈悲")])
    assert path.read_bytes().decode("utf-8").endswith("Zoë — 慈悲\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.vtt"]
