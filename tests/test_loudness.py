"""attune.loudness: the streaming BS.1770 meter, true peak, and the true-peak limiter."""

from __future__ import annotations

import math
import wave

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from attune.audio.limiter import LIMITER_CONTEXT_FRAMES, limit_block
from attune.audio.meter import LoudnessMeter
from attune.audio.peak import TruePeakMeter, true_peak_dbtp
from helpers.audio import decode, ffmpeg_ebur128

SR = 44100
C = LIMITER_CONTEXT_FRAMES


def tone_bursts(seconds: float = 12.0) -> np.ndarray:
    """1 kHz bursts (1.2 s on, 0.8 s off), the right channel 6 dB down: gating matters."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.3 * np.sin(2 * np.pi * 997 * t) * ((t % 2.0) < 1.2)
    return np.stack([x, 0.5 * x], axis=1).astype(np.float32)


def noise(seconds: float = 10.0, seed: int = 1) -> np.ndarray:
    return (0.05 * np.random.default_rng(seed).standard_normal((int(seconds * SR), 2))).astype(np.float32)


def speech_like(seconds: float = 15.0, seed: int = 2, level: float = 0.4) -> np.ndarray:
    """Band-passed noise under a syllable-rate envelope with phrase pauses (and silent gaps)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    b, a = scipy.signal.butter(2, [150 / (SR / 2), 4000 / (SR / 2)], "band")
    w = scipy.signal.lfilter(b, a, rng.standard_normal((n, 2)), axis=0)
    w[:, 1] = 0.8 * w[:, 0] + 0.2 * w[:, 1]
    t = np.arange(n) / SR
    envelope = np.clip(np.sin(2 * np.pi * 3.3 * t) * np.sin(2 * np.pi * 0.23 * t), 0, None) ** 1.5
    envelope *= np.sin(2 * np.pi * 0.07 * t) > -0.3
    return (level * w * envelope[:, None]).astype(np.float32)


SIGNALS = {"tone bursts": tone_bursts, "noise": noise, "speech-like": speech_like}


def measure(x: np.ndarray, sizes=None) -> float:
    meter = LoudnessMeter(SR, x.shape[1])
    if sizes is None:
        meter.add(x)
    else:
        start = 0
        for size in sizes:
            meter.add(x[start:start + size])
            start += size
        meter.add(x[start:])
    return meter.integrated_lufs()


# -- meter ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SIGNALS)
def test_meter_agrees_with_pyloudnorm(name):
    x = SIGNALS[name]()
    reference = pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64))
    assert measure(x) == pytest.approx(reference, abs=0.05)


def test_meter_mono_and_five_channels_agree_with_pyloudnorm():
    x = speech_like(8.0)
    mono = x[:, 0]
    meter = LoudnessMeter(SR, 1)
    meter.add(mono)
    assert meter.integrated_lufs() == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(mono.astype(np.float64)), abs=0.05)
    five = np.concatenate([x, x[:, :1], 0.5 * x], axis=1)
    assert measure(five) == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(five.astype(np.float64)), abs=0.05)


@pytest.mark.parametrize("name", SIGNALS)
def test_meter_is_identical_whatever_the_block_sizes(name):
    x = SIGNALS[name]()
    whole = measure(x)
    rng = np.random.default_rng(7)
    assert measure(x, rng.integers(1, 70000, size=40)) == whole
    assert measure(x, [1, 2, 3, 4409, 4410, 4411, 65536, 65536, 17]) == whole
    # Reading mid-stream changes nothing either.
    meter = LoudnessMeter(SR)
    for start in range(0, len(x), 30001):
        meter.add(x[start:start + 30001])
        meter.integrated_lufs()
    assert meter.integrated_lufs() == whole


def test_meter_silence_and_short_input_are_minus_infinity():
    meter = LoudnessMeter(SR)
    meter.add(np.zeros((SR * 2, 2), dtype=np.float32))
    assert meter.integrated_lufs() == -math.inf
    short = LoudnessMeter(SR)
    short.add(noise(0.39))  # no complete 400 ms gating block
    assert short.integrated_lufs() == -math.inf


def test_meter_gates_quiet_passages():
    # 6 s loud then 6 s 30 dB down: the relative gate drops the quiet blocks (ungated, the mean
    # energy would halve: -3 dB); only the 3 blocks straddling the change still count (-0.11 LU).
    loud = noise(6.0)
    both = np.concatenate([loud, loud * np.float32(10 ** (-30 / 20))])
    assert measure(both) - measure(loud) == pytest.approx(-0.11, abs=0.02)
    assert measure(both) == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(both.astype(np.float64)), abs=0.05)


def test_meter_rejects_wrong_shapes():
    meter = LoudnessMeter(SR, 2)
    with pytest.raises(ValueError, match=r"expected a block shaped \(frames, 2\), got \(10, 3\)"):
        meter.add(np.zeros((10, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="floating-point"):
        meter.add(np.zeros((10, 2), dtype=np.int16))


def test_meter_agrees_with_ffmpeg_ebur128_on_a_written_file(tmp_path):
    x = speech_like(12.0, seed=5)
    path = tmp_path / "speech.wav"
    pcm = np.clip(np.round(x.astype(np.float64) * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    audio, sample_rate = decode(path)
    assert sample_rate == SR and audio.shape == x.shape
    meter = LoudnessMeter(SR)
    meter.add(audio)
    reference = ffmpeg_ebur128(path)
    assert meter.integrated_lufs() == pytest.approx(reference["integrated_lufs"], abs=0.3)
    assert true_peak_dbtp(audio) == pytest.approx(reference["true_peak_dbtp"], abs=0.3)


# -- true peak -----------------------------------------------------------------------------------

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
            meter.add(x[start:start + block])
        expected = whole if 300 * block >= len(x) else true_peak_dbtp(x[:300 * block])
        assert meter.true_peak_dbtp() == pytest.approx(expected, abs=1e-4)


def test_streaming_true_peak_sees_an_over_across_a_block_boundary():
    # fs/4 at 45 degrees: samples at -3 dBFS, the waveform at 0 dBTP; cut it every 3 frames.
    t = np.arange(SR // 10) / SR
    x = np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4)[:, None].astype(np.float32)
    meter = TruePeakMeter(1)
    for start in range(0, len(x), 3):
        meter.add(x[start:start + 3])
    assert meter.true_peak_dbtp() == pytest.approx(true_peak_dbtp(x), abs=1e-4)
    assert TruePeakMeter(2).true_peak_dbtp() == -math.inf


def test_ungated_loudness_stands_in_for_short_signals():
    x = noise(0.3)
    meter = LoudnessMeter(SR)
    meter.add(x)
    assert meter.integrated_lufs() == -math.inf
    longer = LoudnessMeter(SR)
    longer.add(noise(10.0))
    assert meter.ungated_lufs() == pytest.approx(longer.integrated_lufs(), abs=0.3)
    assert LoudnessMeter(SR).ungated_lufs() == -math.inf


# -- limiter -------------------------------------------------------------------------------------

def limit_in_blocks(x: np.ndarray, block: int, ceiling_dbtp: float = -1.5) -> np.ndarray:
    """What the mixer does: overlapping windows of a zero-padded signal, the middles joined."""
    padded = np.pad(x, ((C, C + block), (0, 0)))
    out = [limit_block(padded[s:s + block + 2 * C], ceiling_dbtp) for s in range(0, len(x), block)]
    return np.concatenate(out)[:len(x)]


def hard_cases() -> dict[str, np.ndarray]:
    t = np.arange(3 * SR) / SR
    square = np.sign(np.sin(2 * np.pi * 220 * t))
    square = scipy.signal.lfilter(*scipy.signal.butter(4, 12000 / (SR / 2)), square)
    loud_speech = speech_like(6.0, seed=3)
    loud_speech *= np.float32(1.4 / np.abs(loud_speech).max())  # peaks +2.9 dBFS
    return {
        "sine fs/4 full scale": np.stack([np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4),
                                          np.sin(2 * np.pi * (SR / 4 - 3) * t)], 1).astype(np.float32),
        "sine 11 kHz full scale": np.stack([np.sin(2 * np.pi * 11000 * t + 0.3)] * 2, 1).astype(np.float32),
        "speech-like +3 dBFS": loud_speech,
        "square-ish": np.stack([square, -0.9 * square], 1).astype(np.float32),
    }


@pytest.mark.parametrize("name", list(hard_cases()))
def test_limiter_holds_the_true_peak_ceiling_and_blocks_stitch_exactly(name):
    x = hard_cases()[name]
    assert true_peak_dbtp(x) > 0.0  # the case is over the ceiling to begin with
    whole = limit_in_blocks(x, len(x))
    assert true_peak_dbtp(whole) <= -1.5 + 0.05
    assert np.array_equal(limit_in_blocks(x, 65536), whole)
    assert np.array_equal(limit_in_blocks(x, 40001), whole)


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
    assert gain[burst.start - C:burst.stop - C].max() <= ceiling / 1.0 + 1e-6
    steps = np.abs(np.diff(gain))
    assert steps.max() < 1.5 * (1 - ceiling) / (2 * 176 + 1)  # a straight ramp, no jump
    ramp_frames = np.count_nonzero(steps > 1e-9) / 2
    assert 0.005 * SR < ramp_frames < 0.012 * SR
    assert np.all(gain[: SR // 2 - 600] == 1.0) and np.all(gain[SR // 2 + SR // 100 + 600:] == 1.0)


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
