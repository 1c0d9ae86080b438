"""The faulty-take helpers (tests/helpers/faults.py) do what they say: levels, places, determinism."""

from __future__ import annotations

import numpy as np
import scipy.signal

from helpers.audio import spectrum_peaks
from helpers.faults import add_clicks, add_hum, add_room_tone, add_rumble, loudness_lufs, phone_take, scale_to_lufs, si_sdr_db, speech_level_db

RATE = 16000


def speechish(seconds: float = 4.0, seed: int = 7) -> np.ndarray:
    """Band-passed noise in 300 ms bursts with 200 ms gaps: active frames and pauses, like speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    sos = scipy.signal.butter(4, [200, 4000], "bandpass", fs=RATE, output="sos")
    x = scipy.signal.sosfilt(sos, rng.standard_normal(n)) * ((np.arange(n) / RATE) % 0.5 < 0.3)
    return (0.1 * x / np.max(np.abs(x))).astype(np.float32)


def level_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(np.asarray(x, dtype=np.float64))))


def test_speech_level_ignores_the_pauses():
    x = speechish()
    active = x[(np.arange(len(x)) / RATE) % 0.5 < 0.3]
    assert abs(speech_level_db(x, RATE) - level_db(active)) < 0.5
    assert speech_level_db(x, RATE) > level_db(x) + 1.5  # the pauses would pull a plain RMS down


def test_each_fault_sits_at_its_level_below_the_speech():
    x = speechish()
    speech_db = speech_level_db(x, RATE)
    assert abs(level_db(add_hum(x, RATE, level_db=-20) - x) - (speech_db - 20)) < 0.1
    assert abs(level_db(add_room_tone(x, RATE, snr_db=12) - x) - (speech_db - 12)) < 0.1
    assert abs(level_db(add_rumble(x, RATE, level_db=-18) - x) - (speech_db - 18)) < 0.1


def test_hum_is_at_the_mains_frequency_and_its_harmonics():
    hum_only = add_hum(np.zeros(RATE * 2) + speechish(2.0), RATE, freq_hz=60, level_db=0) - speechish(2.0)
    freqs = sorted(round(f) for f, _ in spectrum_peaks(hum_only, RATE, n=3))
    assert freqs == [60, 120, 180]


def test_room_tone_is_pink_and_rumble_is_low():
    x = np.zeros(RATE * 4, dtype=np.float32)
    x[: RATE * 2] = speechish(2.0)
    tone = add_room_tone(x, RATE, snr_db=0, seed=3) - x
    f, p = scipy.signal.welch(tone, RATE, nperseg=4096)
    octave = lambda lo: np.mean(p[(f >= lo) & (f < 2 * lo)])  # noqa: E731
    # Pink: equal power per octave, so the density halves (-3 dB) each octave up.
    assert abs(10 * np.log10(octave(250) / octave(2000)) - 9.0) < 1.0
    rumble = add_rumble(x, RATE, level_db=0) - x
    f, p = scipy.signal.welch(rumble, RATE, nperseg=4096)
    assert np.sum(p[f < 80]) / np.sum(p) > 0.99


def test_clicks_start_at_their_sample_at_the_asked_peak():
    x = speechish()
    y = add_clicks(x, RATE, [8000, 40000], level_db=6.0)
    diff = np.abs(y - x)
    assert set(np.flatnonzero(diff > 1e-6)) <= set(range(8000, 8016)) | set(range(40000, 40016))
    assert abs(20 * np.log10(diff[8000] / np.max(np.abs(x))) - 6.0) < 0.01


def test_scale_to_lufs_measures_the_asked_loudness():
    assert abs(loudness_lufs(scale_to_lufs(speechish(), RATE, -30.0), RATE) - -30.0) < 0.01


def test_phone_take_is_deterministic_and_carries_its_reference():
    x = speechish()
    take = phone_take(x, RATE, lufs=-30.0, clicks=2, seed=4)
    again = phone_take(x, RATE, lufs=-30.0, clicks=2, seed=4)
    assert np.array_equal(take.samples, again.samples) and take.click_samples == again.click_samples
    assert take.samples.dtype == np.float32 and len(take.samples) == len(x)
    assert abs(loudness_lufs(take.samples, RATE) - -30.0) < 0.01
    assert len(take.click_samples) == 2
    # The reference is the clean speech at the take's gain: SI-SDR is finite and the noise costs it.
    gain = float(np.dot(take.reference, x) / np.dot(x, x))
    assert np.allclose(take.reference, x * gain, atol=1e-6)
    assert 0.0 < si_sdr_db(take.samples, take.reference) < 20.0
    assert si_sdr_db(take.reference, take.reference) > 100.0
    assert not np.array_equal(phone_take(x, RATE, seed=5).samples, take.samples)
