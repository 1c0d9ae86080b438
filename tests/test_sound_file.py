"""attune.audio.sound_file: sound files as beds, decoded, resampled and looped without a seam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from attune.audio import sound_file
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


def test_file_bed_mono_becomes_stereo_and_long_files_are_cut(tmp_path, monkeypatch):
    t = np.arange(4 * SR) / SR
    path = write_wav(tmp_path / "mono.wav", 0.3 * np.sin(2 * np.pi * 300 * t), SR)
    monkeypatch.setattr(sound_file, "FILE_BED_MAX_S", 3.0)
    b = make_bed(parse_background(str(path), base_dir=tmp_path), SR)
    x = b.render(0, SR)
    assert np.array_equal(x[:, 0], x[:, 1])
    assert b.loop_frames == (3 * SR - round(0.75 * SR),)


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
