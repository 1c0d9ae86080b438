"""attune.audio.limiter: the look-around true-peak limiter."""

from __future__ import annotations

import numpy as np
import pytest

from attune.audio.limiter import limit_block
from helpers.signals import SR, C, hard_cases, speech_like


def test_limiter_leaves_quiet_blocks_exactly_alone_and_copies():
    x = speech_like(3.0) * np.float32(0.2)
    window = x[: 65536 + 2 * C]
    before = window.copy()
    out = limit_block(window)
    assert np.array_equal(out, window[C:-C]) and out.dtype == np.float32
    assert not np.shares_memory(out, window)
    assert np.array_equal(window, before)


def test_limiter_leaves_hot_but_legal_blocks_alone():
    # Samples within 6 dB of the ceiling (so they are checked) but no over: unchanged, bit for bit.
    t = np.arange(65536 + 2 * C) / SR
    x = (0.75 * np.sin(2 * np.pi * 440 * t))[:, None].repeat(2, axis=1).astype(np.float32)
    assert np.array_equal(limit_block(x), x[C:-C])


def test_limiter_gain_ramps_are_smooth_and_local():
    # A steady 0.5 DC with a 10 ms burst to 1.0: the gain is out/in, ramping over ~8 ms, 1 elsewhere.
    x = np.full((SR + 2 * C, 2), 0.5, dtype=np.float32)
    burst = slice(C + SR // 2, C + SR // 2 + SR // 100)
    x[burst] = 1.0
    gain = (limit_block(x) / x[C:-C])[:, 0].astype(np.float64)
    ceiling = 10 ** (-1.5 / 20)
    assert gain[burst.start - C : burst.stop - C].max() <= ceiling / 1.0 + 1e-6
    steps = np.abs(np.diff(gain))
    assert steps.max() < 1.5 * (1 - ceiling) / (2 * 176 + 1)  # a straight ramp, no jump
    ramp_frames = np.count_nonzero(steps > 1e-9) / 2
    assert 0.005 * SR < ramp_frames < 0.012 * SR
    assert np.all(gain[: SR // 2 - 600] == 1.0) and np.all(gain[SR // 2 + SR // 100 + 600 :] == 1.0)


def test_limiter_input_checks():
    with pytest.raises(ValueError, match="limit_block needs"):
        limit_block(np.zeros((C, 2), dtype=np.float32))
    assert limit_block(np.zeros((2 * C, 2), dtype=np.float32)).shape == (0, 2)


def test_limiter_fast_path_skips_the_interpolation(monkeypatch):
    # A window with every sample more than 6.1 dB under the ceiling cannot have an inter-sample
    # over, so the oversampling is never run for it; a hot window still is.
    import attune.audio.limiter

    calls = []
    real = attune.audio.limiter._over_frames
    monkeypatch.setattr(attune.audio.limiter, "_over_frames", lambda *a: calls.append(1) or real(*a))
    quiet = np.random.default_rng(0).uniform(-0.4, 0.4, (65536 + 2 * C, 2)).astype(np.float32)  # the bound: 0.416
    assert np.array_equal(limit_block(quiet), quiet[C:-C]) and calls == []
    limit_block(hard_cases()["sine fs/4 full scale"][: 65536 + 2 * C])
    assert calls == [1]


@pytest.mark.parametrize("gain", [1.0, 0.5, 1.7, 3.0])
def test_limiter_gain_is_applied_as_if_beforehand(gain):
    for x in (speech_like(3.0)[: 65536 + 2 * C], hard_cases()["sine fs/4 full scale"][: 65536 + 2 * C]):
        before = x.copy()
        expected = limit_block(x * np.float32(gain))
        out = limit_block(x, gain=gain)
        assert out.dtype == np.float32 and np.array_equal(out, expected)
        assert np.array_equal(x, before)  # the input is never modified
