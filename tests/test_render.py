"""attune.render with the fake synthesiser: the voice anchor, the measured figures, and the
corrective second encode when the written file comes out over the ceiling or off the target."""

from __future__ import annotations

import dataclasses

import pytest

import attune.media.master
import attune.render
from attune.errors import AudioError
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import ffmpeg_ebur128, speech_spans_s, voice_ebur128
from helpers.fakes import FakeSynthesizer

SCRIPT = """\
title: Sparse
bells: {start: true, end: true}
sections:
  - text: |
      Settle in. [pause 20s..]
      Rest here now. [pause 5s]
"""


@pytest.fixture
def script_file(tmp_path):
    path = tmp_path / "sparse.yaml"
    path.write_text(SCRIPT)
    return path


def spy(monkeypatch, fake_measurements=()):
    """Record every encode's (gain, ceiling) in dB; replace the first measurements with `fake_measurements` edits."""
    encodes, real_encode, real_measure = [], attune.media.master._encode, attune.media.master.measure_file
    edits = list(fake_measurements)

    def encode(mixer, outputs, *rest):
        encodes.extend((output.gain_db, output.ceiling_dbtp) for output in outputs)
        return real_encode(mixer, outputs, *rest)

    def measure(*args, **kwargs):
        measured = real_measure(*args, **kwargs)
        return dataclasses.replace(measured, **edits.pop(0)) if edits else measured

    monkeypatch.setattr(attune.media.master, "_encode", encode)
    monkeypatch.setattr(attune.media.master, "measure_file", measure)
    return encodes


def test_voice_is_the_anchor_and_figures_are_measured(script_file, tmp_path, monkeypatch):
    encodes = spy(monkeypatch)
    out = tmp_path / "a.mp3"
    result = render(RenderRequest(script_file, out, settings=TrackSettings(length_s=90.0, background="pink-noise")), synthesizer=FakeSynthesizer())
    assert len(encodes) == 1
    assert voice_ebur128(out, speech_spans_s(result.plan), tmp_path) == pytest.approx(-16.0, abs=0.5)
    independent = ffmpeg_ebur128(out)
    assert result.track_lufs == pytest.approx(independent["integrated_lufs"], abs=0.3) and result.track_lufs < -18
    assert result.true_peak_dbtp == pytest.approx(independent["true_peak_dbtp"], abs=0.3)
    assert independent["true_peak_dbtp"] <= -1.0


def test_an_encoder_overshoot_is_measured_and_encoded_again_with_more_headroom(script_file, tmp_path, monkeypatch):
    encodes = spy(monkeypatch, [{"true_peak_dbtp": -0.4}])
    result = render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(length_s=45.0)), synthesizer=FakeSynthesizer())
    assert len(encodes) == 2
    (gain_1, ceiling_1), (gain_2, ceiling_2) = encodes
    assert gain_2 == gain_1
    assert ceiling_2 == pytest.approx(ceiling_1 - (-0.4 - (-1.2)) - 0.3)
    assert result.true_peak_dbtp <= -1.2


def test_a_voice_off_target_is_corrected_by_the_difference(script_file, tmp_path, monkeypatch):
    # The first file is said to measure 0.8 LU low: the second encode is 0.8 dB louder, which the
    # real measurement then finds 0.8 LU high, so the third comes back to the first gain.
    encodes = spy(monkeypatch, [{"voice_lufs": -16.8}])
    result = render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(length_s=45.0)), synthesizer=FakeSynthesizer())
    assert [gain - encodes[0][0] for gain, _ in encodes] == pytest.approx([0.0, 0.8, 0.0], abs=1e-3)
    assert {ceiling for _, ceiling in encodes} == {encodes[0][1]}
    assert result.voice_lufs == pytest.approx(-16.0, abs=0.3)


def test_a_file_that_stays_over_the_ceiling_is_never_delivered(script_file, tmp_path, monkeypatch):
    encodes = spy(monkeypatch, [{"true_peak_dbtp": 0.5}] * 3)
    out = tmp_path / "a.mp3"
    out.write_bytes(b"old")
    with pytest.raises(AudioError, match=r"the encoded mp3 file peaks at 0\.5 dBTP, over the -1 dBTP ceiling, after 3 encodes"):
        render(RenderRequest(script_file, out, settings=TrackSettings(length_s=45.0)), synthesizer=FakeSynthesizer())
    assert len(encodes) == 3
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp3", "sparse.yaml"]


def test_a_file_that_decodes_to_the_wrong_length_is_an_error(script_file, tmp_path, monkeypatch):
    spy(monkeypatch, [{"n_frames": 44100 * 45 + 441}])
    with pytest.raises(AudioError, match=r"the encoded mp3 file decodes to 45\.010s, not the planned 45\.000s"):
        render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(length_s=45.0)), synthesizer=FakeSynthesizer())
    assert not (tmp_path / "a.mp3").exists()


@pytest.mark.parametrize("target", [-13.9, -40.5])
def test_loudness_target_range(script_file, tmp_path, target):
    with pytest.raises(attune.errors.SettingsError, match=r"use a value from -40 to -14"):
        render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(loudness_lufs=target)), synthesizer=FakeSynthesizer())


def test_a_peaky_voice_is_brought_to_the_target_through_the_limiter_in_one_encode(script_file, tmp_path, monkeypatch):
    # A quiet voice with loud 5 ms plosives twice a second: at the target, the limiter takes 4.1 dB off
    # them and 0.7 LU off the voice. Measured before the first encode, that loss is made up in its gain;
    # before, the written file measured low and was encoded three times (gains 17.56, 18.60, 19.04 dB).
    encodes, unlimited_gains_db = spy(monkeypatch), []
    real = attune.render.gain_through_limiter

    def gain_through_limiter(plan, load_clip, gain_db, *rest):
        unlimited_gains_db.append(gain_db)
        return real(plan, load_clip, gain_db, *rest)

    monkeypatch.setattr(attune.render, "gain_through_limiter", gain_through_limiter)
    out = tmp_path / "a.mp3"
    result = render(RenderRequest(script_file, out, settings=TrackSettings(length_s=60.0)), synthesizer=FakeSynthesizer("peaky"), cache_dir=tmp_path / "cache")
    assert len(encodes) == 1
    assert result.limiter_reduction_db > 3.0
    assert voice_ebur128(out, speech_spans_s(result.plan), tmp_path) == pytest.approx(-16.0, abs=0.3)
    assert encodes[0][0] - unlimited_gains_db[0] > 0.5  # made up before the encode (measured: 1.49 dB)
