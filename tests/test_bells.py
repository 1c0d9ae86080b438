"""attune.audio.bells: the singing-bowl strike, and tools/make_sounds.py regenerating the bundled sounds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from attune.audio.bells import BELL_DURATION_S, bell_strike
from attune.library import SOUNDS_DIR
from attune.timebase import SAMPLE_RATE
from helpers.audio import decode, rms_dbfs, spectrum_peaks

SR = SAMPLE_RATE
ASSETS = SOUNDS_DIR
TOOL = Path(__file__).resolve().parents[1] / "tools" / "make_sounds.py"


@pytest.fixture(scope="module")
def bell() -> np.ndarray:
    return bell_strike(SR)


def window_levels_db(x: np.ndarray, window_s: float, peak: float, how: str = "peak") -> np.ndarray:
    """Per-window level relative to `peak`, in dB: the window's max |sample| or its RMS."""
    frames = int(window_s * SR)
    usable = len(x) // frames * frames
    chunks = np.abs(x[:usable]).reshape(-1, frames, x.shape[1])
    level = chunks.max(axis=(1, 2)) if how == "peak" else np.sqrt(np.mean(chunks**2, axis=(1, 2)))
    return 20 * np.log10(np.maximum(level, 1e-30) / peak)


def test_strike_shape_level_and_cache(bell):
    assert BELL_DURATION_S == 7.0
    assert bell.shape == (round(7.0 * SR), 2) and bell.dtype == np.float32
    assert 20 * np.log10(np.abs(bell).max()) == pytest.approx(-3.0, abs=0.01)
    assert bell_strike(SR) is bell
    with pytest.raises(ValueError):
        bell[0, 0] = 1.0  # read-only: nobody can spoil the cached strike
    assert bell_strike(22050).shape == (round(7.0 * 22050), 2)


def test_strike_rings_then_decays_smoothly_to_silence(bell):
    peak = np.abs(bell).max()
    peaks = window_levels_db(bell, 0.05, peak)
    rings_s = (np.flatnonzero(peaks > -40).max() + 1) * 0.05
    assert rings_s >= 2.0 + 0.5  # at least 2 s above -40 dB (it rings ~5 s)
    assert np.all(peaks[-10:] < -60)  # the last half second is below -60 dB of the peak
    # Monotonic envelope: RMS in 0.25 s windows falls from every window to the next after the peak.
    rms = window_levels_db(bell, 0.25, peak, how="rms")
    start = int(np.argmax(rms))
    assert start <= 1
    assert np.all(np.diff(rms[start:]) < 0)
    # Ends silent: the last 100 ms fade to exactly 0.
    assert rms_dbfs(bell[-int(0.1 * SR) :]) < -80
    assert np.all(bell[-1] == 0.0)


def test_strike_has_a_soft_mallet_onset(bell):
    peak = np.abs(bell).max()
    assert np.abs(bell[0]).max() == 0.0
    assert np.abs(bell[: int(0.0005 * SR)]).max() < 0.1 * peak  # no click: first 0.5 ms is quiet
    assert np.abs(bell[: int(0.05 * SR)]).max() > 0.7 * peak  # but it speaks within 50 ms


def test_strike_partials_are_inharmonic_bowl_modes(bell):
    found = [hz for hz, _ in spectrum_peaks(bell, SR, n=8)]
    fundamental = min(found)
    assert 220 <= fundamental <= 300
    for ratio in (2.76, 5.40):
        assert any(abs(hz - ratio * fundamental) < 2.0 for hz in found), ratio
    # Beating pairs: a second, weaker mode a fraction of a hertz to a few hertz above the first ones.
    close = spectrum_peaks(bell[:, :1], SR, n=2, min_hz=fundamental - 5, max_hz=fundamental + 5)
    assert len(close) == 2 and 0.2 < abs(close[1][0] - close[0][0]) < 5.0


# -- bundled sounds ------------------------------------------------------------------------------------


def load_make_assets():
    spec = importlib.util.spec_from_file_location("make_sounds", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_assets_regenerates_the_shipped_files(tmp_path):
    made = load_make_assets().make_assets(tmp_path)
    assert sorted(p.name for p in made) == ["singing-bowl.flac", "soft-rain.ogg"]
    for path in made:
        shipped = ASSETS / path.name
        assert shipped.exists(), f"{shipped} is missing: run python tools/make_sounds.py"
        if path.read_bytes() != shipped.read_bytes():
            # Another ffmpeg build may package the same samples differently: then the samples must match.
            fresh, _ = decode(path)
            kept, _ = decode(shipped)
            assert np.array_equal(fresh, kept), f"{shipped} differs from what tools/make_sounds.py makes"


def test_shipped_assets_are_what_they_claim(bell):
    bowl, sample_rate = decode(ASSETS / "singing-bowl.flac")
    assert sample_rate == SR and bowl.shape == bell.shape
    assert np.abs(bowl - np.round(bell.astype(np.float64) * 32767) / 32768).max() == 0.0  # 16-bit, lossless
    rain_path = ASSETS / "soft-rain.ogg"
    assert rain_path.stat().st_size < 600_000
    rain, sample_rate = decode(rain_path)
    assert sample_rate == SR and rain.shape[1] == 2
    assert 20.0 <= rain.shape[0] / SR <= 30.0
    assert np.abs(rain).max() < 0.6
    assert (ASSETS / "README.md").read_text().count("tools/make_sounds.py") >= 2
