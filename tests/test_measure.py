"""attune.media.measure: a written file decoded and measured, the voice cut out by its speech spans."""

from __future__ import annotations

import numpy as np
import pytest

from attune.audio.meter import LoudnessMeter
from attune.audio.peak import true_peak_dbtp
from attune.errors import AudioError
from attune.media.measure import measure_file
from attune.timebase import SAMPLE_RATE as SR
from helpers.audio import ffmpeg_ebur128, write_wav
from helpers.signals import speech_like


def lufs(x):
    meter = LoudnessMeter(SR, 2)
    meter.add(x)
    return meter.integrated_lufs()


def test_voice_track_and_peak_of_a_written_file(tmp_path):
    # Three loud passages in a long quiet bed: the voice is the passages, the track is everything.
    rng = np.random.default_rng(3)
    audio = (0.003 * rng.standard_normal((60 * SR, 2))).astype(np.float32)
    spans = [(5 * SR, 9 * SR), (30 * SR, 33 * SR), (50 * SR, 55 * SR)]
    for a, b in spans:
        audio[a:b] += speech_like((b - a) / SR, seed=a)[: b - a]
    path = write_wav(tmp_path / "t.wav", audio, SR, bits=32)
    measured = measure_file(path, spans)
    voice = np.concatenate([audio[a:b] for a, b in spans])
    assert measured.n_frames == len(audio) and measured.duration_s == pytest.approx(60.0)
    assert measured.voice_lufs == pytest.approx(lufs(voice), abs=1e-3)
    assert measured.track_lufs == pytest.approx(lufs(audio), abs=1e-3)
    assert measured.true_peak_dbtp == pytest.approx(true_peak_dbtp(audio), abs=1e-3)
    independent = ffmpeg_ebur128(path)
    assert measured.track_lufs == pytest.approx(independent["integrated_lufs"], abs=0.1)
    assert measured.true_peak_dbtp == pytest.approx(independent["true_peak_dbtp"], abs=0.1)
    # The spans' order does not matter; no spans, no voice.
    assert measure_file(path, spans[::-1]).voice_lufs == measured.voice_lufs
    assert measure_file(path, []).voice_lufs is None


def test_a_file_that_does_not_decode_is_an_audio_error(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio" * 100)
    with pytest.raises(AudioError, match=r"ffmpeg could not decode the file it wrote"):
        measure_file(bad, [])


def test_a_cancelled_measurement_stops_and_leaves_no_decoder_running(tmp_path):
    # The render measures its files on threads; when it is interrupted it sets the event, and each
    # measurement stops at its next block (its ffmpeg killed), instead of decoding to the end.
    import threading

    path = write_wav(tmp_path / "t.wav", np.zeros((2 * SR, 2), dtype=np.float32), SR)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(AudioError, match=r"the measurement was stopped"):
        measure_file(path, [], cancel=cancel)
