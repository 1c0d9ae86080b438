"""A faulty phone take built from clean speech: mains hum, clicks, room tone, rumble, and a quiet level.

Every helper takes mono float samples (frames,) at `rate_hz`, returns a new float32 array of the same
length (the input is never changed), and is deterministic: noise is drawn from `numpy.random.default_rng(seed)`.

Levels are relative to the speech, so a fault keeps its meaning whatever the speech's own level:
- `speech_level_db(x)` is the *active* speech level: the mean square over the 20 ms frames within 30 dB
  of the loudest frame (the pauses don't count), in dB re full scale. `snr_db=15` puts the room tone's
  RMS 15 dB below that level; `level_db=-25` does the same for hum and rumble.
- Clicks are set by their peak against the speech's peak (`level_db=0`: as tall as the loudest sample).

`phone_take(speech, rate_hz)` applies them all in one call, then scales the result to `lufs` (the project's
BS.1770 meter, `attune.audio.meter.LoudnessMeter`), and returns a `Take` with the faulty samples, the
clean reference at the same gain (for SI-SDR), and where each click is (in samples).

    from helpers.faults import phone_take
    take = phone_take(speech, 22050, lufs=-30.0, hum_hz=50.0, snr_db=15.0, clicks=3, seed=1)
    take.samples, take.reference, take.click_samples
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.signal

from attune.audio.meter import LoudnessMeter

#: Frames of this length decide which parts of the take are speech (see `speech_level_db`).
_FRAME_S = 0.020
#: Frames within this many dB of the loudest frame are "active speech".
_ACTIVE_RANGE_DB = 30.0


def _mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples shaped (frames,), got {x.shape}")
    return x


def _rms_db(x: np.ndarray) -> float:
    mean_square = float(np.mean(np.square(x))) if x.size else 0.0
    return 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def speech_level_db(x: np.ndarray, rate_hz: int) -> float:
    """Active speech level in dB re full scale: the RMS of the 20 ms frames within 30 dB of the loudest."""
    x = _mono(x)
    n = max(1, round(_FRAME_S * rate_hz))
    frames = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x[None, :]
    energy = np.mean(np.square(frames), axis=1)
    if not np.any(energy > 0):
        return -math.inf
    active = energy >= energy.max() * 10.0 ** (-_ACTIVE_RANGE_DB / 10.0)
    return 10.0 * math.log10(float(np.mean(energy[active])))


def _at_level(noise: np.ndarray, target_db: float) -> np.ndarray:
    """`noise` scaled so its RMS is `target_db` dB re full scale."""
    return noise * 10.0 ** ((target_db - _rms_db(noise)) / 20.0)


def hum(n: int, rate_hz: int, *, freq_hz: float = 50.0, harmonics: int = 5, seed: int = 0) -> np.ndarray:
    """Mains hum, RMS 1: the fundamental and `harmonics - 1` overtones, amplitude 1/k for the k-th,
    each with a seeded phase (a transformer's buzz: odd and even harmonics, the fundamental strongest)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate_hz
    out = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * freq_hz < rate_hz / 2:
            out += np.sin(2 * np.pi * k * freq_hz * t + rng.uniform(0, 2 * np.pi)) / k
    return out / max(math.sqrt(float(np.mean(np.square(out)))), 1e-12)


def add_hum(x: np.ndarray, rate_hz: int, *, level_db: float = -25.0, freq_hz: float = 50.0, harmonics: int = 5, seed: int = 0) -> np.ndarray:
    """`x` with mains hum (50 or 60 Hz and its harmonics) whose RMS is `level_db` below the active speech level."""
    x = _mono(x)
    return (x + _at_level(hum(len(x), rate_hz, freq_hz=freq_hz, harmonics=harmonics, seed=seed), speech_level_db(x, rate_hz) + level_db)).astype(np.float32)


def coloured_noise(n: int, rate_hz: int, *, colour: str = "pink", seed: int = 0) -> np.ndarray:
    """Stationary noise, RMS 1, with a power spectrum ∝ 1/f^α: white (α=0), pink (1), brown (2), shaped in
    the frequency domain from seeded white noise. Room tone is close to pink with a little more low end."""
    alpha = {"white": 0.0, "pink": 1.0, "brown": 2.0}.get(colour)
    if alpha is None:
        raise ValueError(f"colour must be white, pink or brown, not {colour!r}")
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / rate_hz)
    shape = np.ones_like(f)
    shape[1:] = (f[1:] / 1000.0) ** (-alpha / 2.0)
    shape[f < 20.0] = 0.0  # no DC or infrasonic drift: that is `add_rumble`'s job
    out = np.fft.irfft(spectrum * shape, n)
    return out / max(math.sqrt(float(np.mean(np.square(out)))), 1e-12)


def add_room_tone(x: np.ndarray, rate_hz: int, *, snr_db: float = 15.0, colour: str = "pink", seed: int = 0) -> np.ndarray:
    """`x` with room tone (coloured noise, also in the pauses) at `snr_db` below the active speech level."""
    x = _mono(x)
    noise = coloured_noise(len(x), rate_hz, colour=colour, seed=seed)
    return (x + _at_level(noise, speech_level_db(x, rate_hz) - snr_db)).astype(np.float32)


def add_rumble(x: np.ndarray, rate_hz: int, *, level_db: float = -20.0, cutoff_hz: float = 40.0, seed: int = 0) -> np.ndarray:
    """`x` with low-frequency rumble (handling noise, traffic, wind on the mic): white noise through a
    4th-order low-pass at `cutoff_hz`, its RMS `level_db` below the active speech level."""
    x = _mono(x)
    noise = rumble(len(x), rate_hz, cutoff_hz=cutoff_hz, seed=seed)
    return (x + _at_level(noise, speech_level_db(x, rate_hz) + level_db)).astype(np.float32)


def rumble(n: int, rate_hz: int, *, cutoff_hz: float = 40.0, seed: int = 0) -> np.ndarray:
    """Low-frequency rumble, RMS 1: seeded white noise through a 4th-order Butterworth low-pass at `cutoff_hz`."""
    rng = np.random.default_rng(seed)
    sos = scipy.signal.butter(4, cutoff_hz, "lowpass", fs=rate_hz, output="sos")
    out = scipy.signal.sosfilt(sos, rng.standard_normal(n))
    return out / max(math.sqrt(float(np.mean(np.square(out)))), 1e-12)


def click_positions(n: int, rate_hz: int, count: int, *, seed: int = 0, margin_s: float = 0.1) -> list[int]:
    """`count` seeded click positions (samples), sorted, at least `margin_s` from either end and from each other."""
    rng = np.random.default_rng(seed)
    margin = round(margin_s * rate_hz)
    if count and n <= 2 * margin:
        raise ValueError("the signal is too short for clicks")
    positions: list[int] = []
    while len(positions) < count:
        p = int(rng.integers(margin, n - margin))
        if all(abs(p - q) >= margin for q in positions):
            positions.append(p)
    return sorted(positions)


def add_clicks(
    x: np.ndarray, rate_hz: int, positions: list[int], *, level_db: float = 0.0, length_ms: float = 1.0, peak: float | None = None, seed: int = 0
) -> np.ndarray:
    """`x` with a click at each sample in `positions`: a `length_ms` burst of seeded noise under a fast
    exponential decay, its peak `level_db` against `peak` (default: the peak of `x`): a mouth click, a knock, a tick."""
    x = _mono(x)
    rng = np.random.default_rng(seed)
    out = x.copy()
    n = max(2, round(length_ms / 1000.0 * rate_hz))
    peak = (peak if peak is not None else float(np.max(np.abs(x)))) or 1.0
    envelope = np.exp(-np.arange(n) / (n / 4.0))
    for p in positions:
        burst = rng.standard_normal(n) * envelope
        burst[0] = abs(burst[0]) + 1.0  # the click's onset is at `p` itself, its tallest sample
        burst *= peak * 10.0 ** (level_db / 20.0) / np.max(np.abs(burst))
        end = min(len(out), p + n)
        out[p:end] += burst[: end - p]
    return out.astype(np.float32)


def loudness_lufs(x: np.ndarray, rate_hz: int) -> float:
    """Integrated loudness (BS.1770-4, gated) of mono `x`, by the project's meter."""
    meter = LoudnessMeter(rate_hz, channels=1)
    meter.add(np.asarray(x, dtype=np.float32))
    return meter.integrated_lufs()


def gain_to_lufs(x: np.ndarray, rate_hz: int, lufs: float) -> float:
    """The linear gain that brings `x` to `lufs` integrated loudness."""
    return 10.0 ** ((lufs - loudness_lufs(x, rate_hz)) / 20.0)


def scale_to_lufs(x: np.ndarray, rate_hz: int, lufs: float = -30.0) -> np.ndarray:
    """`x` scaled to `lufs` integrated loudness (a phone take is quiet: about -30 LUFS)."""
    x = _mono(x)
    return (x * gain_to_lufs(x, rate_hz, lufs)).astype(np.float32)


@dataclass(frozen=True)
class Take:
    """A faulty take and what it was made of, all at `rate_hz` and of one length."""

    samples: np.ndarray  #: the faulty take, float32, at `lufs`
    reference: np.ndarray  #: the clean speech at the same gain as in `samples` (SI-SDR's reference)
    rate_hz: int
    click_samples: tuple[int, ...]  #: where each click starts (its tallest sample)


def phone_take(
    speech: np.ndarray,
    rate_hz: int,
    *,
    lufs: float = -30.0,
    hum_hz: float | None = 50.0,
    hum_db: float = -25.0,
    snr_db: float | None = 15.0,
    colour: str = "pink",
    rumble_db: float | None = -20.0,
    clicks: int = 3,
    click_db: float = 0.0,
    seed: int = 0,
) -> Take:
    """Clean `speech` as a phone records it: hum at `hum_hz` (None: none) `hum_db` under the speech, room
    tone at `snr_db` (None: none), rumble `rumble_db` under the speech (None: none), `clicks` clicks at
    seeded places `click_db` against the speech's peak, and the whole scaled to `lufs`. Each fault draws
    from its own seed derived from `seed`, so changing one fault leaves the others' noise the same."""
    clean = _mono(speech)
    x = clean.copy()
    level = speech_level_db(clean, rate_hz)
    if hum_hz is not None:
        x += _at_level(hum(len(x), rate_hz, freq_hz=hum_hz, seed=seed + 1), level + hum_db)
    if snr_db is not None:
        x += _at_level(coloured_noise(len(x), rate_hz, colour=colour, seed=seed + 2), level - snr_db)
    if rumble_db is not None:
        x += _at_level(rumble(len(x), rate_hz, seed=seed + 3), level + rumble_db)
    positions = click_positions(len(x), rate_hz, clicks, seed=seed + 4)
    # Clicks are set against the clean speech's peak, not the noisy take's.
    x = add_clicks(x, rate_hz, positions, level_db=click_db, peak=float(np.max(np.abs(clean))), seed=seed + 5).astype(np.float64)
    gain = gain_to_lufs(x, rate_hz, lufs)
    return Take((x * gain).astype(np.float32), (clean * gain).astype(np.float32), rate_hz, tuple(positions))


def si_sdr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio (Le Roux et al. 2019) of `estimate` against `reference`, in dB."""
    s = np.asarray(reference, dtype=np.float64)
    e = np.asarray(estimate, dtype=np.float64)
    n = min(len(s), len(e))
    s, e = s[:n] - s[:n].mean(), e[:n] - e[:n].mean()
    target = (np.dot(e, s) / np.dot(s, s)) * s
    return 10.0 * math.log10(float(np.dot(target, target)) / max(float(np.dot(e - target, e - target)), 1e-20))
