"""attune.audio.beds: the synthesised beds, deterministic, seamless and at their reference loudness."""

from __future__ import annotations

import functools

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from attune.audio.background import BED_KINDS, BedSpec
from attune.audio.beds import BED_REFERENCE_LUFS, make_bed
from attune.timebase import SAMPLE_RATE
from helpers.audio import rms_dbfs, spectrum_peaks

SR = SAMPLE_RATE

SYNTH_KINDS = [k for k in BED_KINDS if k != "none"]


@functools.cache
def bed(kind: str, **settings):
    return make_bed(BedSpec(kind, **settings), SR)


@pytest.mark.parametrize("kind", SYNTH_KINDS)
def test_render_shape_determinism_and_random_access(kind):
    b = bed(kind)
    block = b.render(123_456, 65_536)
    assert block.shape == (65_536, 2) and block.dtype == np.float32
    assert np.array_equal(make_bed(BedSpec(kind), SR).render(123_456, 65_536), block)  # rebuilt: same samples
    # Random access: rows a.. of render(0, a + n), across each loop's wrap, and longer than one slice.
    for a in [0, 1, 44_099, *(length - 10 for length in b.loop_frames)]:
        assert np.array_equal(b.render(a, 5000), b.render(0, a + 5000)[a:]), a
    assert np.array_equal(b.render(7, 300_000), b.render(0, 300_007)[7:])
    assert b.render(5, 0).shape == (0, 2)
    block[:] = 0  # a new array: the caller may scribble on it
    assert np.abs(b.render(123_456, 10)).max() > 0


@pytest.mark.parametrize("kind", SYNTH_KINDS)
def test_loudness_is_the_reference(kind):
    x = bed(kind).render(0, 32 * SR).astype(np.float64)
    assert pyloudnorm.Meter(SR).integrated_loudness(x) == pytest.approx(BED_REFERENCE_LUFS, abs=0.3)
    assert np.abs(x).max() < 0.9


@pytest.mark.parametrize("carrier_hz, beat_hz", [(200.0, 6.0), (180.0, 7.5), (432.0, 7.83)])
def test_binaural_left_carrier_right_carrier_plus_beat(carrier_hz, beat_hz):
    x = bed("binaural", carrier_hz=carrier_hz, beat_hz=beat_hz).render(SR, 20 * SR)
    ((left_hz, _),) = spectrum_peaks(x[:, 0], SR, n=1)
    ((right_hz, _),) = spectrum_peaks(x[:, 1], SR, n=1)
    assert left_hz == pytest.approx(carrier_hz, abs=0.03)
    assert right_hz == pytest.approx(carrier_hz + beat_hz, abs=0.03)
    assert right_hz - left_hz == pytest.approx(beat_hz, abs=0.03)
    # Each ear hears one tone only: the other ear's frequency is absent (< -60 dB).
    spectrum = np.abs(np.fft.rfft(x[:, 0] * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    near_right = np.abs(freqs - (carrier_hz + beat_hz)) < 0.5
    assert 20 * np.log10(spectrum[near_right].max() / spectrum.max()) < -60


@pytest.mark.parametrize("kind, slope_db_per_octave", [("white-noise", 0.0), ("pink-noise", -3.01), ("brown-noise", -6.02)])
def test_noise_spectral_slope(kind, slope_db_per_octave):
    x = bed(kind).render(0, 30 * SR)
    freqs, power = scipy.signal.welch(x[:, 0], SR, nperseg=1 << 14)
    band = (freqs > 100) & (freqs < 10_000)
    slope = np.polyfit(np.log2(freqs[band]), 10 * np.log10(power[band]), 1)[0]
    assert slope == pytest.approx(slope_db_per_octave, abs=0.3)
    # Decorrelated channels, and no rumble: 10 Hz is well under 40 Hz even for brown noise.
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.05
    level = lambda hz: power[np.argmin(np.abs(freqs - hz))]  # noqa: E731
    assert 10 * np.log10(level(10) / level(40)) < -6


def test_noise_seed_changes_the_noise_not_its_colour():
    a = bed("pink-noise").render(0, SR)
    b = bed("pink-noise", seed=1).render(0, SR)
    assert not np.array_equal(a, b)
    assert rms_dbfs(a) == pytest.approx(rms_dbfs(b), abs=0.5)


def test_noise_loops_are_coprime_and_about_23_and_31_seconds():
    lengths = bed("pink-noise").loop_frames
    assert np.gcd(*lengths) == 1
    assert [round(n / SR) for n in lengths] == [23, 31]


@pytest.mark.parametrize("root_hz", [110.0, 55.0, 196.0])
def test_drone_energy_sits_at_the_root(root_hz):
    x = bed("drone", root_hz=root_hz).render(0, 20 * SR)
    peaks = spectrum_peaks(x, SR, n=3)
    assert peaks[0][0] == pytest.approx(root_hz, abs=1.0)  # strongest: the root
    spectrum = np.abs(np.fft.rfft(x[:, 0])) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    assert spectrum[np.abs(freqs - root_hz) < 2].sum() > 0.5 * spectrum.sum()


def test_drone_evolves_slowly_never_abruptly():
    x = bed("drone").render(0, 120 * SR)
    window = SR // 2
    levels = np.array([rms_dbfs(x[i : i + window]) for i in range(0, len(x), window)])
    assert levels.max() - levels.min() > 2.0  # it moves…
    assert np.abs(np.diff(levels)).max() < 2.0  # …gently
    left, right = x[:, 0], x[:, 1]
    assert 0.8 < np.corrcoef(left, right)[0, 1] < 0.999  # a slight stereo difference
