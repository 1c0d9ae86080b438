"""Each section's own voice, rate, engine and bed (attune.speech.voicing, attune.audio.bed_track), measured in the audio."""

from __future__ import annotations

import numpy as np
import pytest

import attune.render
import attune.settings
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import decode, rms_dbfs
from helpers.fakes import FakeSynthesizer

SHAPED = """\
title: Shaped
sections:
  - name: Arriving
    text: |
      Welcome here, and settle in. [pause 12s]
  - name: Body scan
    rate: 100
    voice: roa/es
    background: binaural
    background_db: -12
    text: |
      [pause 12s] Welcome here, and settle in. [pause 12s]
"""


@pytest.fixture
def shaped(tmp_path):
    path = tmp_path / "shaped.yaml"
    path.write_text(SHAPED, encoding="utf-8")
    return path


def test_section_voice_rate_and_bed_in_the_plan_and_the_audio(shaped, tmp_path, fake_synth):
    result = render(RenderRequest(shaped, tmp_path / "out.wav", TrackSettings()), synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    speech = [e for e in result.plan.events if e.kind == "speech"]
    assert [e.voice for e in speech] == ["pyttsx3 gmw/en-us 140 wpm", "pyttsx3 roa/es 100 wpm"]
    # The same words at 100 instead of 140 words per minute (the fake engine speaks at the rate).
    assert speech[1].duration_s > 1.25 * speech[0].duration_s
    assert {e.bed for e in result.plan.events if e.section == "Arriving"} == {None}
    assert {e.bed for e in result.plan.events if e.section == "Body scan"} == {"binaural 200/6 Hz -12 dB"}
    assert result.plan.to_json()["events"][-1]["bed"] == "binaural 200/6 Hz -12 dB"

    audio, rate = decode(result.output_path)
    boundary = next(e.start_frame for e in result.plan.events if e.section == "Body scan")
    window = rate // 5

    def level(at_s: float) -> float:
        at = boundary + round(at_s * rate)
        return rms_dbfs(audio[at - window // 2 : at + window // 2])

    full = level(4.0)
    assert full > -50
    # Equal-power crossfade over 4 s centred on the boundary: silent 2 s before, -3 dB at the boundary
    # (sin 45° = 0.707), 90% (-0.9 dB, sin 67.5°) a second after, full 2 s after.
    assert level(-2.5) < full - 40
    assert level(0.0) == pytest.approx(full - 3.0, abs=0.8)
    assert level(1.0) == pytest.approx(full + 20 * np.log10(np.sin(np.pi * 3 / 8)), abs=0.8)
    assert level(2.5) == pytest.approx(full, abs=0.8)


def test_a_section_engine_goes_through_the_engine_factory(shaped, tmp_path, fake_synth, monkeypatch):
    other = FakeSynthesizer()
    other.engine_id = "fake-engine 2"
    made = []
    monkeypatch.setattr(attune.settings, "ENGINES", ("pyttsx3", "other"))
    monkeypatch.setattr(attune.render, "shared_synthesizer", lambda name, cache_dir=None: made.append(name) or other)
    shaped.write_text(SHAPED.replace("    voice: roa/es\n", "    engine: other\n"), encoding="utf-8")
    result = render(RenderRequest(shaped, tmp_path / "out.wav"), synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    assert made == ["other"]
    assert fake_synth.calls == ["Welcome here, and settle in."] and other.calls == ["Welcome here, and settle in."]
    assert [e.voice for e in result.plan.events if e.kind == "speech"] == ["pyttsx3 gmw/en-us 140 wpm", "other gmw/en-us 100 wpm"]


def test_markdown_heading_flags_shape_a_section(tmp_path, fake_synth):
    path = tmp_path / "scan.md"
    path.write_text("# Scan\n\nWelcome.\n\n## Feet (rate 110, background pink-noise, background_db -30)\nFeel your feet. [pause 5s]\n", encoding="utf-8")
    result = render(RenderRequest(path, tmp_path / "out.wav"), synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    feet = [e for e in result.plan.events if e.section == "Feet"]
    assert {e.voice for e in feet if e.kind == "speech"} == {"pyttsx3 gmw/en-us 110 wpm"}
    assert {e.bed for e in feet} == {"pink-noise -30 dB"}


def test_section_render_plays_only_that_section_at_its_minimum(shaped, tmp_path, fake_synth, monkeypatch):
    monkeypatch.chdir(tmp_path)
    request = RenderRequest(shaped, None, TrackSettings(length_s=600, formats=("wav",)), sections=("body scan",))
    result = render(request, synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    assert result.output_path.resolve() == tmp_path / "output" / "shaped-body-scan.wav"
    assert {e.section for e in result.plan.events} == {"Body scan"}
    speech = next(e for e in result.plan.events if e.kind == "speech")
    assert result.plan.duration_s == pytest.approx(24 + speech.duration_s, abs=0.01)  # no length fitting: 600 s is ignored
    audio, _ = decode(result.output_path)
    assert len(audio) == result.plan.n_frames
    fake_synth.calls.clear()
    render(request, synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    assert fake_synth.calls == []  # the second time, the speech is all from the cache


def test_a_section_can_silence_the_track_bed(tmp_path, fake_synth):
    path = tmp_path / "quiet.yaml"
    path.write_text(
        "title: Q\nbackground: pink-noise\nsections:\n  - name: A\n    text: Hello there. [pause 8s]\n"
        "  - name: B\n    background: none\n    text: '[pause 12s] Hello there.'\n",
        encoding="utf-8",
    )
    result = render(RenderRequest(path, tmp_path / "out.wav"), synthesizer=fake_synth, cache_dir=tmp_path / "cache")
    assert {e.section: e.bed for e in result.plan.events} == {"A": "pink-noise -22 dB", "B": None}
    audio, rate = decode(result.output_path)
    boundary = next(e.start_frame for e in result.plan.events if e.section == "B")
    assert rms_dbfs(audio[boundary - 4 * rate : boundary - 3 * rate]) > -60  # the bed in A's pause
    assert rms_dbfs(audio[boundary + 3 * rate : boundary + 4 * rate]) < -90  # faded out by 2 s into B's pause
