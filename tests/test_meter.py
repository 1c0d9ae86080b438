"""attune.audio.meter: the streaming BS.1770 meter, against pyloudnorm and ffmpeg's ebur128."""

from __future__ import annotations

import math
import wave

import numpy as np
import pyloudnorm
import pytest

from attune.audio.meter import LoudnessMeter
from attune.audio.peak import true_peak_dbtp
from helpers.audio import decode, ffmpeg_ebur128
from helpers.signals import SIGNALS, SR, noise, speech_like


def measure(x: np.ndarray, sizes=None) -> float:
    meter = LoudnessMeter(SR, x.shape[1])
    if sizes is None:
        meter.add(x)
    else:
        start = 0
        for size in sizes:
            meter.add(x[start : start + size])
            start += size
        meter.add(x[start:])
    return meter.integrated_lufs()


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
        meter.add(x[start : start + 30001])
        meter.integrated_lufs()
    assert meter.integrated_lufs() == whole


def test_meter_silence_and_short_input_are_minus_infinity():
    meter = LoudnessMeter(SR)
    meter.add(np.zeros((SR * 2, 2), dtype=np.float32))
    assert meter.integrated_lufs() == -math.inf
    short = LoudnessMeter(SR)
    short.add(noise(0.39))  # no complete 400 ms gating block
    assert short.integrated_lufs() == -math.inf


def test_meter_state_never_turns_subnormal_in_digital_silence():
    # Subnormal filter state costs ~45x per sample on x86 (a sparse track's silence made metering the
    # slowest part of a render); the guard keeps the biquads' state normal, and silence still reads as such.
    meter = LoudnessMeter(SR)
    meter.add(noise(1.0))
    meter.add(np.zeros((SR * 3, 2), dtype=np.float32))
    state = np.abs(meter._zi[0].view(np.float32))
    assert np.all(state >= np.finfo(np.float32).tiny)
    silent = LoudnessMeter(SR)
    silent.add(np.zeros((SR, 2), dtype=np.float32))
    assert silent.ungated_lufs() == -math.inf
    mono = LoudnessMeter(SR, 1)
    mono.add(noise(1.0)[:, 0])
    mono.add(np.zeros(SR * 3, dtype=np.float32))
    assert np.all(np.abs(mono._zi[0]) >= np.finfo(np.float32).tiny)


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


def test_ungated_loudness_stands_in_for_short_signals():
    x = noise(0.3)
    meter = LoudnessMeter(SR)
    meter.add(x)
    assert meter.integrated_lufs() == -math.inf
    longer = LoudnessMeter(SR)
    longer.add(noise(10.0))
    assert meter.ungated_lufs() == pytest.approx(longer.integrated_lufs(), abs=0.3)
    assert LoudnessMeter(SR).ungated_lufs() == -math.inf
