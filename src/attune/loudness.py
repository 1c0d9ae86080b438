"""Loudness (ITU-R BS.1770-4 / EBU R128) measured block by block, true peak, and a true-peak limiter.

Tools for the mixer and for measuring what was written, each working on float arrays shaped
(frames, channels), full scale 1.0:

- `LoudnessMeter`: integrated loudness of a stream of blocks of any size, without keeping the audio.
- `true_peak_dbtp`: the 4x-oversampled peak of a whole array (BS.1770-4 Annex 2), for tests.
- `TruePeakMeter`: the same true peak for a stream of blocks, oversampling only where it can matter.
- `limit_block`: a look-around true-peak limiter that is a pure function of a window of input, so the
  mixer can call it on overlapping windows of a random-access mix and the blocks join seamlessly;
  `LimiterStats` records how much gain reduction it applied.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
import scipy.signal

# ---------------------------------------------------------------------------------------------
# Integrated loudness
# ---------------------------------------------------------------------------------------------

#: Channel weights G_i of BS.1770-4 Table 3, in pyloudnorm's channel order (L, R, C, Ls, Rs).
_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
#: Absolute gate Γa (LUFS) and relative gate offset (LU), BS.1770-4 §2.8 (eqs. 5 and 6).
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
#: A 400 ms gating block is 4 steps of 100 ms (75 % overlap).
_STEPS_PER_BLOCK = 4
_STEPS_PER_SECOND = 10


@functools.cache
def _k_weighting_sos(sample_rate: int, dtype: type = np.float32) -> np.ndarray:
    """The two K-weighting biquads as an `sos` array for scipy.signal.sosfilt.

    The coefficients are pyloudnorm's own (`pyloudnorm.Meter(rate)._filters`: the 'high_shelf'
    pre-filter of BS.1770-4 Table 1 and the 'high_pass' RLB filter of Table 2, each with `.b`/`.a`,
    designed with the RBJ cookbook at any rate), so this meter and pyloudnorm weight identically.
    Single precision filters ~3x faster than double and moves integrated loudness by < 0.0001 LU on
    the test signals (tests/test_loudness.py holds the meter to pyloudnorm within 0.05 LU).
    """
    import pyloudnorm

    filters = pyloudnorm.Meter(sample_rate)._filters
    rows = []
    for name in ("high_shelf", "high_pass"):
        stage = filters[name]
        b = np.asarray(stage.b, dtype=np.float64) * stage.passband_gain
        a = np.asarray(stage.a, dtype=np.float64)
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    return np.array(rows, dtype=dtype)


class LoudnessMeter:
    """Integrated loudness (ITU-R BS.1770-4 / EBU R128) computed block by block, so a 3-hour track never sits in memory.

    Feed blocks with `add` in order; ask `integrated_lufs()` at any time. The result does not depend
    on how the signal was cut into blocks, bit for bit: the filter state is carried across calls and
    each 100 ms step is summed in one piece. Memory: one float per 100 ms step (~860 KB for 3 hours).

    Speed: stereo is filtered as one complex64 stream (L + iR; real coefficients keep the two parts
    independent, so this is exactly two real filters), one sosfilt pass with no de-interleaving copy.
    That beat filtering the two channels on two threads (sosfilt releases the GIL, but at 65,536-frame
    calls the threads gained nothing, and even with 262,144-frame buffering only ~10 %, while an
    encoder process is competing for the second core anyway).
    """

    def __init__(self, sample_rate: int = 44100, channels: int = 2):
        if int(sample_rate) != sample_rate or sample_rate < 8000:
            raise ValueError(f"sample_rate must be an integer >= 8000 Hz, got {sample_rate!r}")
        if not 1 <= channels <= len(_CHANNEL_WEIGHTS):
            raise ValueError(f"channels must be 1..{len(_CHANNEL_WEIGHTS)}, got {channels!r}")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._weights = np.array(_CHANNEL_WEIGHTS[: self.channels], dtype=np.float32)
        # Stereo with G_L = G_R = 1: filter L + iR and sum |y|^2 (two float32 squares per frame).
        self._complex = self.channels == 2
        if self._complex:
            self._sos = _k_weighting_sos(self.sample_rate, np.complex64)
            self._zi = [np.zeros((2, 2), dtype=np.complex64)]
        else:
            self._sos = _k_weighting_sos(self.sample_rate, np.float32)
            self._zi = [np.zeros((2, 2), dtype=np.float32) for _ in range(self.channels)]
        self._values_per_frame = 2 if self._complex else 1
        # Squared, weighted filtered values of the step in progress (less than one 100 ms step).
        self._partial = np.empty(0, dtype=np.float32)
        self._frames = 0  # frames added so far
        self._steps_done = 0  # complete 100 ms steps so far
        # Channel-weighted energy of each complete step: S_k = sum_i G_i * sum_{n in step k} y_i[n]^2.
        self._step_energy = np.zeros(1024, dtype=np.float64)

    def _step_boundary(self, k: int) -> int:
        """First frame of 100 ms step k: floor(k * rate / 10), exact at any integer rate."""
        return k * self.sample_rate // _STEPS_PER_SECOND

    def add(self, block: np.ndarray) -> None:
        """Add the next `block` of audio, shaped (frames, channels) (or (frames,) when mono), any length."""
        block = np.asarray(block)
        if block.ndim == 1 and self.channels == 1:
            block = block[:, None]
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"expected a block shaped (frames, {self.channels}), got {block.shape}")
        if not np.issubdtype(block.dtype, np.floating):
            raise ValueError(f"expected floating-point samples, got {block.dtype}")
        n = block.shape[0]
        if n == 0:
            return
        # K-weighting (BS.1770-4 §2.1, both stages), then y^2 weighted by G_i (eqs. 1 and 4).
        if self._complex:
            stream = np.ascontiguousarray(block, dtype=np.float32).view(np.complex64).reshape(-1)
            y, self._zi[0] = scipy.signal.sosfilt(self._sos, stream, zi=self._zi[0])
            values = y.view(np.float32)  # L0, R0, L1, R1, ...: |y|^2 summed = L^2 + R^2
            np.square(values, out=values)
        else:
            values = np.zeros(n, dtype=np.float32)
            for ch in range(self.channels):
                column = np.ascontiguousarray(block[:, ch], dtype=np.float32)
                y, self._zi[ch] = scipy.signal.sosfilt(self._sos, column, zi=self._zi[ch])
                values += self._weights[ch] * np.square(y)
        self._take_steps(values, n)

    def _take_steps(self, values: np.ndarray, n: int) -> None:
        """Sum `values` (n frames of squared samples) into complete 100 ms steps; keep the remainder."""
        per = self._values_per_frame
        start = self._frames - len(self._partial) // per  # first frame of the step in progress
        end = self._frames + n
        self._frames = end
        k0 = self._steps_done
        k1 = (end * _STEPS_PER_SECOND) // self.sample_rate  # steps whose last frame is < end
        while self._step_boundary(k1 + 1) <= end:  # guard the integer division
            k1 += 1
        while k1 > k0 and self._step_boundary(k1) > end:
            k1 -= 1
        if k1 == k0:
            self._partial = np.concatenate([self._partial, values])
            return
        # Each step is summed by one np.add.reduceat segment over contiguous values, in float64.
        # The first step joins the carried remainder to the head of this block in a small array,
        # so where a block boundary falls cannot change any sum.
        head = (self._step_boundary(k0 + 1) - start) * per - len(self._partial)
        first = np.concatenate([self._partial, values[:head]])
        sums = [np.add.reduceat(first, [0], dtype=np.float64)]
        if k1 > k0 + 1:
            bounds = np.array([(self._step_boundary(k) - self._step_boundary(k0 + 1)) * per for k in range(k0 + 1, k1 + 1)])
            body = values[head : head + bounds[-1]]
            sums.append(np.add.reduceat(body, bounds[:-1], dtype=np.float64))
        energy = np.concatenate(sums)
        if k1 > len(self._step_energy):
            grown = np.zeros(max(k1, 2 * len(self._step_energy)), dtype=np.float64)
            grown[:k0] = self._step_energy[:k0]
            self._step_energy = grown
        self._step_energy[k0:k1] = energy
        self._steps_done = k1
        used = head + (self._step_boundary(k1) - self._step_boundary(k0 + 1)) * per
        self._partial = values[used:].copy()

    def ungated_lufs(self) -> float:
        """The K-weighted loudness of everything added, with no gating (-0.691 + 10 log10 of the mean
        channel-weighted square): for signals too short for a 400 ms block. -inf for silence or nothing."""
        # Step energies and the partial step's squares are already channel-weighted (for stereo, the
        # squares of L + iR's two parts: G_L = G_R = 1).
        energy = float(np.sum(self._step_energy[: self._steps_done])) + float(np.sum(self._partial, dtype=np.float64))
        if self._frames == 0 or energy <= 0:
            return -math.inf
        return -0.691 + 10.0 * math.log10(energy / self._frames)

    def integrated_lufs(self) -> float:
        """Integrated (gated) loudness of everything added so far, in LUFS; -inf for silence or < 400 ms.

        Only complete 400 ms gating blocks count (BS.1770-4 §2.8); a trailing partial block is ignored.
        """
        steps = self._step_energy[: self._steps_done]
        n_blocks = len(steps) - _STEPS_PER_BLOCK + 1
        if n_blocks <= 0:
            return -math.inf
        # Block j spans steps j..j+3 (400 ms, hop 100 ms). Its mean square, channel-weighted
        # (eq. 1 inside eq. 4): z_j = sum_i G_i z_ij = (S_j + S_j+1 + S_j+2 + S_j+3) / frames_in_block_j.
        cumulative = np.concatenate([[0.0], np.cumsum(steps)])
        block_energy = cumulative[_STEPS_PER_BLOCK:] - cumulative[:n_blocks]
        edges = np.arange(n_blocks + _STEPS_PER_BLOCK) * self.sample_rate // _STEPS_PER_SECOND
        z = block_energy / (edges[_STEPS_PER_BLOCK:] - edges[:n_blocks])
        with np.errstate(divide="ignore"):
            # Block loudness l_j = -0.691 + 10 log10(sum_i G_i z_ij)   (eq. 4)
            block_lufs = -0.691 + 10.0 * np.log10(z)
        # Absolute gate: J_a = { j : l_j > Γa }, Γa = -70 LUFS
        above_absolute = block_lufs > _ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return -math.inf
        # Relative gate: Γr = -0.691 + 10 log10( mean_{j in J_a} z_j ) - 10 LU   (eq. 6)
        relative_gate = -0.691 + 10.0 * math.log10(float(np.mean(z[above_absolute]))) + _RELATIVE_GATE_LU
        # Gated loudness: L_KG = -0.691 + 10 log10( mean_{j in J_g} z_j ),
        # J_g = { j : l_j > Γr and l_j > Γa }   (eq. 7)
        gated = above_absolute & (block_lufs > relative_gate)
        return -0.691 + 10.0 * math.log10(float(np.mean(z[gated])))


# ---------------------------------------------------------------------------------------------
# True peak (BS.1770-4 Annex 2)
# ---------------------------------------------------------------------------------------------

#: The 48-tap, 4-phase interpolating FIR of BS.1770-4 Annex 2 (12 taps per phase), as printed there.
#: Phase 3 is phase 0 reversed and phase 2 is phase 1 reversed. At input index n, phase p estimates
#: the signal at time n - 6 + (2p + 1)/8, i.e. the four phases cover the interval (n-6, n-5).
_ANNEX2_PHASE0 = (
    0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000,
    -0.0594482421875, 0.1373291015625, 0.9721679687500, -0.1022949218750,
    0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500,
)  # fmt: skip
_ANNEX2_PHASE1 = (
    -0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250,
    -0.1665039062500, 0.4650878906250, 0.7797851562500, -0.2003173828125,
    0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375,
)  # fmt: skip
_PHASES = np.array([_ANNEX2_PHASE0, _ANNEX2_PHASE1, _ANNEX2_PHASE1[::-1], _ANNEX2_PHASE0[::-1]])
_TAPS = _PHASES.shape[1]
#: Interval m = [m, m+1] is estimated from x[m-5 .. m+6]: these offsets, in tap order k = 0..11
#: (tap k multiplies x[n - k] with n = m + 6).
_INTERVAL_OFFSETS = 6 - np.arange(_TAPS)
#: The largest gain any phase can apply: |y| <= sum_k |h_k| * max|x| (2.02, +6.1 dB). A sample this
#: far below the ceiling cannot help push an interpolated value over it.
_OVERSHOOT_BOUND = float(np.abs(_PHASES).sum(axis=1).max())
#: Sparse dilation: interval m must be estimated when a hot frame lies in [m-5, m+6].
_HOT_REACH = np.arange(-6, 6)
_PHASES32 = _PHASES.astype(np.float32)
#: The prototype's 48 taps interleaved (h[4k + p] = phase_p[k]) for scipy.signal.upfirdn.
_PROTOTYPE = _PHASES.T.reshape(-1)


def true_peak_dbtp(x: np.ndarray, sample_rate: int = 44100) -> float:
    """True peak of the whole array in dBTP: max of |samples| and of the 4x-oversampled signal (Annex 2).

    `sample_rate` is accepted for symmetry; the Annex 2 filter is specified for 48 kHz and applies
    unchanged at 44.1 kHz (4x oversampling either way). Works in 65,536-frame chunks (bounded memory);
    the signal is taken to be silent before its start and after its end.
    """
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if x.size == 0:
        return -math.inf
    peak = 0.0
    chunk = 1 << 16
    history = _TAPS - 1
    for ch in range(x.shape[1]):
        column = x[:, ch]
        peak = max(peak, float(np.max(np.abs(column))))
        for start in range(0, len(column), chunk):
            lo = max(0, start - history)
            piece = np.asarray(column[lo : start + chunk], dtype=np.float64)
            up = scipy.signal.upfirdn(_PROTOTYPE, piece, up=4)
            # Skip outputs that depend on samples before `lo` (zeros): keep those after full history.
            first = 4 * (start - lo)
            # The last chunk keeps the filter's tail: the signal is taken to be followed by silence.
            last = len(up) if start + chunk >= len(column) else 4 * len(piece)
            peak = max(peak, float(np.max(np.abs(up[first:last]))))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


class TruePeakMeter:
    """The true peak (BS.1770-4 Annex 2) of a stream of blocks, exactly as `true_peak_dbtp` of the whole.

    Feed blocks shaped (frames, channels) with `add`; `true_peak_dbtp()` includes the filter's ring
    after the last sample (the stream is taken to be followed by silence, and preceded by it).
    Only intervals that could beat the peak found so far are oversampled (an interval can rise at most
    `_OVERSHOOT_BOUND` times above the samples around it), so a long track costs little more than a
    max/abs pass over it.
    """

    #: Frames kept from one block to the next: one interval's support (x[m-5 .. m+6]) minus one.
    _HISTORY = _TAPS

    def __init__(self, channels: int = 2):
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels!r}")
        self.channels = channels
        self._history = np.zeros((self._HISTORY, channels), dtype=np.float32)
        self._peak = 0.0
        self._finished = False

    def add(self, block: np.ndarray) -> None:
        """Add the next block of audio (any length)."""
        if self._finished:
            raise ValueError("this TruePeakMeter has been read; make a new one for another stream")
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[:, None]
        if block.ndim != 2 or block.shape[1] != self.channels:
            raise ValueError(f"expected a block shaped (frames, {self.channels}), got {block.shape}")
        if block.shape[0] == 0:
            return
        self._scan(np.concatenate([self._history, block]))

    def _scan(self, x: np.ndarray) -> None:
        # Intervals m in [5, len - 7] have their support in x. The next window starts _HISTORY frames
        # before this one ends, so its first estimable interval is this one's last + 1: none is missed.
        frame_peak = _frame_peaks(x)
        self._peak = max(self._peak, float(frame_peak.max()))
        _, interval_peak = _hot_interval_peaks(x, frame_peak, self._peak / _OVERSHOOT_BOUND)
        if len(interval_peak):
            self._peak = max(self._peak, float(interval_peak.max()))
        self._history = x[-self._HISTORY :].copy()

    def true_peak_dbtp(self) -> float:
        """The true peak of everything added, in dBTP (-inf for silence). Ends the stream."""
        if not self._finished:
            self._scan(np.concatenate([self._history, np.zeros((self._HISTORY, self.channels), dtype=np.float32)]))
            self._finished = True
        return 20.0 * math.log10(self._peak) if self._peak > 0 else -math.inf


# ---------------------------------------------------------------------------------------------
# True-peak limiter
# ---------------------------------------------------------------------------------------------

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


def limit_block(x: np.ndarray, ceiling_dbtp: float = -1.5, sample_rate: int = 44100, gain: float = 1.0,
                stats: LimiterStats | None = None) -> np.ndarray:
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
    hot_level = ceiling / _OVERSHOOT_BOUND
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
    frame_peak = _frame_peaks(x)
    intervals, interval_peak = _hot_interval_peaks(x, frame_peak, hot_level)
    over = interval_peak > ceiling
    # An over inside interval m is charged to both of its frames, m and m+1, as is a frame's own sample.
    peak = frame_peak.copy()
    over_intervals, over_values = intervals[over], interval_peak[over]
    for frames in (over_intervals, over_intervals + 1):
        peak[frames] = np.maximum(peak[frames], over_values)
    frames = np.flatnonzero(peak > ceiling)
    return frames, ceiling / peak[frames].astype(np.float64)


def _frame_peaks(x: np.ndarray) -> np.ndarray:
    """max over channels of |x|, per frame."""
    return functools.reduce(np.maximum, [np.abs(x[:, ch]) for ch in range(x.shape[1])])


def _hot_interval_peaks(x: np.ndarray, frame_peak: np.ndarray, hot_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The intervals m (between frames m and m+1) that could peak above `hot_level` × the Annex 2
    filter's largest gain, and the 4x-oversampled peak of each (max over phases and channels).

    Only intervals with their whole support x[m-5 .. m+6] inside the window are estimated. An interval
    whose support holds no sample above `hot_level` cannot exceed `hot_level * _OVERSHOOT_BOUND`,
    so it is skipped: on speech and music only a small fraction of intervals is computed.
    """
    n_total, channels = x.shape
    hot = np.flatnonzero(frame_peak > hot_level)
    first, last = 5, n_total - 7  # intervals with their whole support x[m-5..m+6] in the window
    if last < first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    intervals = None
    if len(hot) < n_total // 8:
        # Intervals m whose support contains a hot frame h, i.e. m in [h-6, h+5] (a dilation of `hot`).
        mask = np.zeros(n_total + 12, dtype=bool)
        mask[(hot[:, None] + (_HOT_REACH + 6)).ravel()] = True
        intervals = np.flatnonzero(mask[6 + first : 6 + last + 1]) + first
    if intervals is not None and len(intervals) < n_total // 3:
        # Sparse: gather the 12 samples of each interval, (taps, intervals) per channel.
        support_index = intervals[None, :] + _INTERVAL_OFFSETS[:, None]
        columns = [x[:, ch][support_index] for ch in range(channels)]
    else:
        # Dense: every interval; (taps, intervals) rows are the channel shifted by 11-k (row k = x[m+6-k]).
        intervals = np.arange(first, last + 1)
        count = len(intervals)
        columns = []
        for ch in range(channels):
            column = np.ascontiguousarray(x[:, ch])
            columns.append(np.stack([column[11 - k : 11 - k + count] for k in range(_TAPS)]))
    if len(intervals) == 0:
        return intervals, np.zeros(0, dtype=np.float32)
    # (phases, taps) x (taps, intervals): the four phase estimates of every interval, every channel.
    # np.einsum, not `@`: OpenBLAS spreads this thin product over threads that spin-wait, which cost
    # 5 ms of CPU per call instead of 0.5 ms on a busy 2-core machine.
    interval_peak = functools.reduce(
        np.maximum,
        [np.abs(np.einsum("pk,kn->pn", _PHASES32, column.astype(np.float32, copy=False))).max(axis=0) for column in columns],
    )
    return intervals, interval_peak


def _apply_gain(out: np.ndarray, frames: np.ndarray, required: np.ndarray, half: int, n_total: int,
                stats: LimiterStats | None = None) -> None:
    """Multiply `out` (the window's middle) by g = mean_±half(min_±(half+F)(r)), computed per cluster of overs.

    r is 1 except at `frames`; g can only dip below 1 within ±reach (= 2*half + F) of an over, and it
    depends only on r within ±reach. Overs closer than 2*reach share one local computation, so each
    cluster's result equals what the whole window would give, exactly (the averaging is an integer sum).
    """
    c = LIMITER_CONTEXT_FRAMES
    wide = half + _FLAT_FRAMES  # the sliding minimum spans ±wide
    reach = half + wide
    width = 2 * half + 1
    splits = np.flatnonzero(np.diff(frames) > 2 * reach) + 1
    for group, group_required in zip(np.split(frames, splits), np.split(required, splits)):
        lo = max(int(group[0]) - 2 * reach, 0)
        hi = min(int(group[-1]) + 2 * reach + 1, n_total)
        r = np.ones(hi - lo, dtype=np.float64)
        r[group - lo] = group_required
        held = scipy.ndimage.minimum_filter1d(r, size=2 * wide + 1, mode="nearest")
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
