"""attune.audio.peak: true peak (BS.1770 Annex 2), of a whole array and of a stream."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attune.audio.limiter import limit_block
from attune.audio.peak import TruePeakMeter, true_peak_dbtp
from helpers.signals import SIGNALS, SR, C, hard_cases


def test_true_peak_finds_inter_sample_overs():
    # fs/4 at 45 degrees: every sample is ±0.707 (-3.01 dBFS), the waveform peaks at 1.0 (0 dBTP).
    t = np.arange(SR) / SR
    x = np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4)[:, None].astype(np.float32)
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x) == pytest.approx(0.0, abs=0.1)
    slow = (0.5 * np.sin(2 * np.pi * 100 * t))[:, None]
    # The Annex 2 filter's passband gain is +0.014 dB (its phases sum to 1.0016).
    assert true_peak_dbtp(slow) == pytest.approx(20 * np.log10(0.5), abs=0.02)
    assert true_peak_dbtp(np.zeros((100, 2))) == -math.inf


@pytest.mark.parametrize("name", ["tone bursts", "noise", "speech-like", "sine fs/4 full scale", "square-ish"])
def test_streaming_true_peak_equals_the_whole_array(name):
    x = SIGNALS[name]() if name in SIGNALS else hard_cases()[name]
    whole = true_peak_dbtp(x)
    for block in (len(x), 65536, 40001, 11):
        meter = TruePeakMeter(2)
        for start in range(0, min(len(x), 300 * block), block):
            meter.add(x[start : start + block])
        expected = whole if 300 * block >= len(x) else true_peak_dbtp(x[: 300 * block])
        assert meter.true_peak_dbtp() == pytest.approx(expected, abs=1e-4)


def test_streaming_true_peak_sees_an_over_across_a_block_boundary():
    # fs/4 at 45 degrees: samples at -3 dBFS, the waveform at 0 dBTP; cut it every 3 frames.
    t = np.arange(SR // 10) / SR
    x = np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4)[:, None].astype(np.float32)
    meter = TruePeakMeter(1)
    for start in range(0, len(x), 3):
        meter.add(x[start : start + 3])
    assert meter.true_peak_dbtp() == pytest.approx(true_peak_dbtp(x), abs=1e-4)
    assert TruePeakMeter(2).true_peak_dbtp() == -math.inf


def limit_in_blocks(x: np.ndarray, block: int, ceiling_dbtp: float = -1.5) -> np.ndarray:
    """What the mixer does: overlapping windows of a zero-padded signal, the middles joined."""
    padded = np.pad(x, ((C, C + block), (0, 0)))
    out = [limit_block(padded[s : s + block + 2 * C], ceiling_dbtp) for s in range(0, len(x), block)]
    return np.concatenate(out)[: len(x)]


@pytest.mark.parametrize("name", list(hard_cases()))
def test_limiter_holds_the_true_peak_ceiling_and_blocks_stitch_exactly(name):
    x = hard_cases()[name]
    assert true_peak_dbtp(x) > 0.0  # the case is over the ceiling to begin with
    whole = limit_in_blocks(x, len(x))
    assert true_peak_dbtp(whole) <= -1.5 + 0.05
    assert np.array_equal(limit_in_blocks(x, 65536), whole)
    assert np.array_equal(limit_in_blocks(x, 40001), whole)
