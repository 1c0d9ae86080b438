"""The singing-bowl bell: one strike, synthesised from inharmonic partials, cached.

A struck bowl rings at inharmonic modes (about 1, 2.76, 5.40, 8.93 and 13.3 times its fundamental),
each decaying at its own rate, and each split into two close modes by the bowl's slight asymmetry,
which beat slowly. A felt mallet gives a soft onset of a few milliseconds and a faint thud.
"""

from __future__ import annotations

import functools

import numpy as np

from ..plan import BELL_DURATION_S  # the strike fills the bell's event exactly

#: Peak of the strike (before any track gain).
BELL_PEAK_DBFS = -3.0
#: An interval bell (`soft=True`) is struck this much quieter than the opening bell, with a softer
#: mallet: a slower onset, darker upper modes and no thud.
SOFT_BELL_RELATIVE_DB = -6.0
_SOFT_ONSET_SCALE = 3.0
_SOFT_BRIGHTNESS = 0.6

_FUNDAMENTAL_HZ = 246.0
#: (ratio to the fundamental, amplitude, decay time constant s, beat between the mode pair Hz,
#:  mallet onset s). Higher modes are quieter, die sooner and beat faster.
_PARTIALS = (
    (1.000, 1.00, 2.20, 0.45, 0.006),
    (2.760, 0.55, 1.30, 0.90, 0.005),
    (5.400, 0.26, 0.70, 1.60, 0.004),
    (8.930, 0.12, 0.40, 2.70, 0.003),
    (13.30, 0.05, 0.22, 3.80, 0.003),
)
#: The second mode of each pair, relative to the first (slight beating).
_PAIR_LEVEL = 0.12
#: From here to the end, a raised-cosine release takes the ring smoothly to silence (a hand on
#: the bowl), so that the strike is far below -60 dB of its peak well before its last 100 ms.
_RELEASE_START_S = 2.5
_END_FADE_S = 0.1


@functools.cache
def bell_strike(sample_rate: int = 44100, soft: bool = False) -> np.ndarray:
    """One singing-bowl strike, (frames, 2) float32, BELL_DURATION_S long, peak -3 dBFS; read-only, cached.

    Rings above -40 dB of its peak for about 5 s, is below -60 dB of its peak from ~6.3 s on, and
    its last 100 ms fade to exactly 0. Deterministic: no randomness at all except a fixed-seed thud.
    `soft`: the interval bell's lighter touch (slower onset, darker upper modes, no thud, peak
    SOFT_BELL_RELATIVE_DB under the strike's).
    """
    if int(sample_rate) != sample_rate or sample_rate < 8000:
        raise ValueError(f"sample_rate must be an integer >= 8000 Hz, got {sample_rate!r}")
    frames = round(BELL_DURATION_S * sample_rate)
    t = np.arange(frames) / sample_rate
    out = np.zeros((frames, 2), dtype=np.float64)
    for index, (ratio, amplitude, decay_s, beat_hz, onset_s) in enumerate(_PARTIALS):
        freq_hz = _FUNDAMENTAL_HZ * ratio
        if freq_hz + beat_hz >= 0.45 * sample_rate:
            continue
        # Soft mallet: a raised-cosine onset of a few ms, then exponential decay.
        if soft:
            onset_s, amplitude = onset_s * _SOFT_ONSET_SCALE, amplitude * _SOFT_BRIGHTNESS**index
        onset = np.clip(t / onset_s, 0.0, 1.0)
        envelope = amplitude * np.exp(-t / decay_s) * (0.5 - 0.5 * np.cos(np.pi * onset))
        for ch in range(2):
            # The two ears hear the pair with a different phase (a slightly different mix of the
            # bowl's two mode shapes), so the beats are offset between left and right.
            pair_phase = 0.9 * ch + 1.3 * index
            tone = np.sin(2 * np.pi * freq_hz * t) + _PAIR_LEVEL * np.sin(2 * np.pi * (freq_hz + beat_hz) * t + pair_phase)
            out[:, ch] += envelope * tone * (1.0 + (0.04 if (ch + index) % 2 else -0.04))
    if not soft:
        out += _mallet_thud(t, sample_rate)
    # A hand on the bowl: raised-cosine release from _RELEASE_START_S to the end (to exactly 0).
    release = np.clip((t - _RELEASE_START_S) / (BELL_DURATION_S - _RELEASE_START_S), 0.0, 1.0)
    out *= (0.5 + 0.5 * np.cos(np.pi * release))[:, None]
    fade_frames = round(_END_FADE_S * sample_rate)
    out[-fade_frames:] *= (0.5 + 0.5 * np.cos(np.pi * np.arange(1, fade_frames + 1) / fade_frames))[:, None]
    out[-1] = 0.0
    out *= 10.0 ** ((BELL_PEAK_DBFS + (SOFT_BELL_RELATIVE_DB if soft else 0.0)) / 20.0) / np.abs(out).max()
    strike = out.astype(np.float32)
    strike.flags.writeable = False
    return strike


def _mallet_thud(t: np.ndarray, sample_rate: int) -> np.ndarray:
    """A felt mallet's contact: ~20 ms of low-passed noise at about -32 dB of the ring, fixed seed."""
    frames = min(len(t), round(0.06 * sample_rate))
    rng = np.random.default_rng(0xB0E1)
    noise = rng.standard_normal((frames, 2))
    # One-pole smoothing in the frequency domain (vectorised): keeps the thud soft, below ~1.5 kHz.
    spectrum = np.fft.rfft(noise, axis=0)
    freq_hz = np.fft.rfftfreq(frames, 1.0 / sample_rate)
    spectrum /= np.sqrt(1.0 + (freq_hz / 1500.0) ** 4)[:, None]
    burst = np.fft.irfft(spectrum, n=frames, axis=0)
    burst /= np.abs(burst).max()
    local_t = t[:frames, None]
    envelope = 0.025 * (1.0 - np.exp(-local_t / 0.001)) * np.exp(-local_t / 0.008)
    thud = np.zeros((len(t), 2))
    thud[:frames] = burst * envelope
    return thud
