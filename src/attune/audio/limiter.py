"""The true-peak limiter: a look-around limiter that is a pure function of a window of input.

The mixer calls `limit_block` on overlapping windows of a random-access mix and the blocks join
seamlessly; `LimiterStats` records how much gain reduction it applied. It catches peaks; the voice
anchor (`attune.audio.mix.voice_lufs`) sets the level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .peak import OVERSHOOT_BOUND, frame_peaks, hot_interval_peaks

#: Gain ramps (attack and release) last 2 * _RAMP_HALF_S: ~8 ms, no clicks.
_RAMP_HALF_S = 0.004
#: Frames of constant gain kept on each side of a peak, so the interpolator (x[m-5..m+6]) sees one gain.
_FLAT_FRAMES = 6
#: Frames of input the interval estimates reach beyond a frame (intervals m-1 and m use x[m-6..m+6]).
_INTERP_REACH = 7
#: The gain curve is quantised (down) to multiples of 2^-24 so that its moving average is an exact
#: integer sum: the same frame then gets bit-identical gain in any window that contains its context.
_GAIN_QUANTUM = float(1 << 24)

#: Frames of context the limiter needs on each side of a block (enough up to 48 kHz).
LIMITER_CONTEXT_FRAMES = 512


def _ramp_half_frames(sample_rate: int) -> int:
    """H: the moving average spans 2H+1 frames, the sliding minimum 2(H+F)+1; capped to fit the context."""
    wanted = round(_RAMP_HALF_S * sample_rate)
    fits = (LIMITER_CONTEXT_FRAMES - _FLAT_FRAMES - _INTERP_REACH) // 2
    return max(1, min(wanted, fits))


@dataclass
class LimiterStats:
    """How hard the limiter worked: its deepest gain reduction and how many output frames it touched."""

    min_gain: float = 1.0
    limited_frames: int = 0

    @property
    def max_reduction_db(self) -> float:
        """The deepest gain reduction applied, in dB (0.0 when the limiter never acted)."""
        return -20.0 * math.log10(self.min_gain) if self.min_gain < 1.0 else 0.0

    def add(self, gain: np.ndarray) -> None:
        if gain.size:
            self.min_gain = min(self.min_gain, float(gain.min()))
            self.limited_frames += int(np.count_nonzero(gain < 1.0))


def limit_block(x: np.ndarray, ceiling_dbtp: float = -1.5, sample_rate: int = 44100, gain: float = 1.0, stats: LimiterStats | None = None) -> np.ndarray:
    """Return the middle n frames of `x` × `gain` (x shaped (n + 2*LIMITER_CONTEXT_FRAMES, ch)), true peak <= ceiling.

    Method: a required gain r = min(1, ceiling / peak) per frame, where peak is the larger of the
    frame's own |sample| and the 4x-oversampled (Annex 2) peaks of the two intervals touching it;
    then g = moving average over ±H of the sliding minimum of r over ±(H+F). Every average window
    around frame i lies inside the minimum windows that contain i, so g <= r everywhere, g is flat
    for ±F frames around each peak, and gain changes are straight ramps of 2H+1 frames (~8 ms).

    The gain is applied in float32, exactly as `limit_block(x * np.float32(gain))` would.

    Cost: a window whose samples are all more than 6.1 dB under the ceiling (the Annex 2 filter's
    worst-case overshoot, so no inter-sample over is possible) costs one max/min pass and one
    multiply into the output.
    Otherwise only the intervals within the filter's reach of those "hot" samples are interpolated,
    and the gain curve is computed only around the frames that are actually over.
    The output for a frame depends only on input within ±LIMITER_CONTEXT_FRAMES of it, bit for bit.
    Never modifies `x`; returns a new float32 array. `stats`, when given, collects the gain reduction
    applied to the output frames.
    """
    x = np.asarray(x)
    c = LIMITER_CONTEXT_FRAMES
    if x.ndim != 2 or x.shape[0] < 2 * c:
        raise ValueError(f"limit_block needs (n + {2 * c}, channels) frames, got {x.shape}")
    if not math.isfinite(ceiling_dbtp):
        raise ValueError(f"ceiling_dbtp must be finite, got {ceiling_dbtp!r}")
    n_total = x.shape[0]
    g = np.float32(gain)
    if n_total == 2 * c:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    hot_level = ceiling / OVERSHOOT_BOUND
    # Fast path: nothing within 6.1 dB of the ceiling anywhere in the window.
    if max(float(x.max()), -float(x.min())) * abs(float(g)) <= hot_level:
        return np.multiply(x[c : n_total - c], g, dtype=np.float32)
    if g != 1:
        x = np.multiply(x, g, dtype=np.float32)  # our own copy: its middle can be the output
        out = x[c : n_total - c]
    else:
        out = np.array(x[c : n_total - c], dtype=np.float32)
    frames, required = _over_frames(x, ceiling, hot_level)
    if len(frames):
        _apply_gain(out, frames, required, _ramp_half_frames(sample_rate), n_total, stats)
    return out


def _over_frames(x: np.ndarray, ceiling: float, hot_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The frames whose true peak exceeds the ceiling (sorted) and r = ceiling / peak for each."""
    frame_peak = frame_peaks(x)
    intervals, interval_peak = hot_interval_peaks(x, frame_peak, hot_level)
    over = interval_peak > ceiling
    # An over inside interval m is charged to both of its frames, m and m+1, as is a frame's own sample.
    peak = frame_peak.copy()
    over_intervals, over_values = intervals[over], interval_peak[over]
    for frames in (over_intervals, over_intervals + 1):
        peak[frames] = np.maximum(peak[frames], over_values)
    frames = np.flatnonzero(peak > ceiling)
    return frames, ceiling / peak[frames].astype(np.float64)


def _apply_gain(out: np.ndarray, frames: np.ndarray, required: np.ndarray, half: int, n_total: int, stats: LimiterStats | None = None) -> None:
    """Multiply `out` (the window's middle) by g = mean_±half(min_±(half+F)(r)), computed per cluster of overs.

    r is 1 except at `frames`; g can only dip below 1 within ±reach (= 2*half + F) of an over, and it
    depends only on r within ±reach. Overs closer than 2*reach share one local computation, so each
    cluster's result equals what the whole window would give, exactly (the averaging is an integer sum).
    """
    c = LIMITER_CONTEXT_FRAMES
    wide = half + _FLAT_FRAMES  # the sliding minimum spans ±wide
    from scipy.ndimage import minimum_filter1d  # loaded at first use, like scipy.signal (attune.render.warm_up)

    reach = half + wide
    width = 2 * half + 1
    splits = np.flatnonzero(np.diff(frames) > 2 * reach) + 1
    for group, group_required in zip(np.split(frames, splits), np.split(required, splits)):
        lo = max(int(group[0]) - 2 * reach, 0)
        hi = min(int(group[-1]) + 2 * reach + 1, n_total)
        r = np.ones(hi - lo, dtype=np.float64)
        r[group - lo] = group_required
        held = minimum_filter1d(r, size=2 * wide + 1, mode="nearest")
        steps = np.floor(held * _GAIN_QUANTUM).astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(steps)])
        # gain[j] is g at frame lo + half + j (full averaging windows only).
        gain = (csum[width:] - csum[: len(csum) - width]) / (width * _GAIN_QUANTUM)
        a = max(lo + half, c)
        b = min(hi - half, n_total - c)
        if a < b:
            applied = gain[a - lo - half : b - lo - half]
            out[a - c : b - c] *= applied[:, None]
            if stats is not None:
                stats.add(applied)
