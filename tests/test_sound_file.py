"""attune.audio.sound_file: sound files as beds, decoded, resampled and looped without a seam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from attune.audio import beds, sound_file
from attune.audio.background import BedSpec, parse_background
from attune.audio.beds import BED_REFERENCE_LUFS, make_bed
from attune.errors import AudioError
from attune.library import SOUNDS_DIR
from attune.timebase import SAMPLE_RATE
from helpers.audio import write_wav

SR = SAMPLE_RATE


def test_file_bed_loops_without_a_seam(tmp_path):
    # 5 s at 48 kHz (resampled to 44.1 kHz): a 3.45 Hz swell + 443.3 Hz tone + a little noise, which
    # a naive loop would break with a jump (the file ends a quarter of the way into a swell).
    t = np.arange(5 * 48000) / 48000
    rng = np.random.default_rng(0)
    signal = 0.4 * np.sin(2 * np.pi * 3.45 * t) + 0.2 * np.sin(2 * np.pi * 443.3 * t) + 0.01 * rng.standard_normal(len(t))
    path = write_wav(tmp_path / "swell.wav", np.stack([signal, signal * 0.9], 1), 48000)
    spec = parse_background(str(path), base_dir=tmp_path)
    b = make_bed(spec, SR)
    (loop,) = b.loop_frames
    fade = round(1.25 * SR)  # min(2 s, a quarter of the file)
    assert loop == 5 * SR - fade
    x = b.render(0, 3 * loop)
    jumps = np.abs(np.diff(x[:, 0]))
    ordinary = np.percentile(jumps, 99.9)
    for seam in (loop, 2 * loop):
        assert jumps[seam - 3 : seam + 2].max() < 1.5 * ordinary
    naive = np.abs(signal[-1] - signal[0]) * 10 ** ((BED_REFERENCE_LUFS - pyloudnorm.Meter(48000).integrated_loudness(signal)) / 20)
    assert naive > 5 * ordinary  # the seam test can fail: a plain loop would jump here
    assert pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64)) == pytest.approx(BED_REFERENCE_LUFS, abs=0.3)
    assert np.array_equal(b.render(loop - 50, 100), x[loop - 50 : loop + 50])


def test_file_bed_mono_becomes_stereo_and_uses_the_whole_file(tmp_path):
    t = np.arange(4 * SR) / SR
    path = write_wav(tmp_path / "mono.wav", 0.3 * np.sin(2 * np.pi * 300 * t), SR)
    b = make_bed(parse_background(str(path), base_dir=tmp_path), SR)
    x = b.render(0, SR)
    assert np.array_equal(x[:, 0], x[:, 1])
    assert b.loop_frames == (4 * SR - round(1.0 * SR),)  # the whole file, less its head (a quarter of it: 1 s)


def test_long_file_bed_plays_past_3_minutes_without_a_seam(tmp_path, monkeypatch):
    monkeypatch.setattr(beds, "FILE_BED_MEASURE_S", 10.0)  # its level is measured on 10 s (this test is about where it plays)
    # 188 s: 300 Hz for the first 180 s, then 523.3 Hz with a slow swell, so that frames past 3 minutes
    # are recognisably the file's own; the file ends mid-swell, where a plain loop would jump.
    n = 188 * SR
    t = np.arange(n, dtype=np.float32) / np.float32(SR)
    signal = np.where(t < 180, 0.3 * np.cos(2 * np.pi * 300 * t), (0.2 + 0.15 * np.sin(2 * np.pi * 0.37 * t)) * np.sin(2 * np.pi * 523.3 * t))
    path = write_wav(tmp_path / "long.wav", np.stack([signal, signal], 1), SR)
    b = make_bed(parse_background(str(path), base_dir=tmp_path), SR)
    fade = round(sound_file.FILE_BED_CROSSFADE_S * SR)
    (loop,) = b.loop_frames
    assert loop == n - fade  # the whole 188 s, not the first 3 minutes
    at = 183 * SR  # bed frame 183 s is file frame 183 s + the crossfade
    block = b.render(at, SR)
    expected = signal[at + fade : at + fade + SR].astype(np.float32) * np.float32(b.gain)
    assert np.abs(block[:, 0] - expected).max() < 2e-4 * max(b.gain, 1.0)
    spectrum = np.abs(np.fft.rfft(block[:, 0]))
    assert np.argmax(spectrum) == 523  # 1 s of audio: bin k is k Hz
    # Around the loop point: no jump bigger than the ordinary sample-to-sample steps.
    around = b.render(loop - SR, 2 * SR)
    jumps = np.abs(np.diff(around[:, 0]))
    ordinary = np.percentile(np.abs(np.diff(block[:, 0])), 99.9)
    assert jumps[SR - 3 : SR + 2].max() < 1.5 * ordinary
    naive = abs(signal[-1] - signal[0]) * b.gain
    assert naive > 5 * ordinary  # a plain loop would jump here: the test can fail
    assert np.array_equal(b.render(loop - 50, 100), np.concatenate([around[SR - 50 : SR], b.render(0, 50)]))


def test_file_bed_decodes_only_what_the_track_needs(tmp_path):
    t = np.arange(30 * SR) / SR
    path = write_wav(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 300 * t), SR)
    spec = parse_background(str(path), base_dir=tmp_path)
    short = make_bed(spec, SR, max_frames=5 * SR)
    full = make_bed(spec, SR)
    assert short.n_file_frames < 15 * SR and full.n_file_frames == 30 * SR
    np.testing.assert_allclose(short.render(0, 5 * SR) / short.gain, full.render(0, 5 * SR) / full.gain, atol=1e-6)


def test_bundled_rain_is_a_usable_bed():
    spec = parse_background("soft-rain.ogg", base_dir=Path("/nonexistent"))
    assert spec == BedSpec("file", path=SOUNDS_DIR / "soft-rain.ogg")
    x = make_bed(spec, SR).render(0, 10 * SR)
    assert pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64)) == pytest.approx(BED_REFERENCE_LUFS, abs=0.5)


def test_short_and_silent_files_are_refused(tmp_path):
    short = write_wav(tmp_path / "blip.wav", np.full(SR // 2, 0.1), SR)
    with pytest.raises(AudioError) as err:
        make_bed(BedSpec("file", path=short), SR)
    assert str(err.value) == "background file 'blip.wav' is only 0.50 s long — use a sound of at least 1 s"
    silent = write_wav(tmp_path / "hush.wav", np.zeros(2 * SR), SR)
    with pytest.raises(AudioError) as err:
        make_bed(BedSpec("file", path=silent), SR)
    assert str(err.value) == "background 'hush.wav' is silent — use a sound that is audible"
