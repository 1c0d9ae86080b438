"""True peak (ITU-R BS.1770-4 Annex 2): the 4x-oversampled peak of a whole array or of a stream.

`true_peak_dbtp(x)` measures an array (for tests); `TruePeakMeter` measures a stream of blocks,
oversampling only the intervals that could beat the peak found so far. The limiter
(`attune.audio.limiter`) uses the same interpolator to find the frames it must turn down.
"""

from __future__ import annotations

import functools
import math

import numpy as np

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
OVERSHOOT_BOUND = float(np.abs(_PHASES).sum(axis=1).max())
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
    from scipy.signal import upfirdn  # slow to import: loaded at first use (a render warms it while speaking)

    peak = 0.0
    chunk = 1 << 16
    history = _TAPS - 1
    for ch in range(x.shape[1]):
        column = x[:, ch]
        peak = max(peak, float(np.max(np.abs(column))))
        for start in range(0, len(column), chunk):
            lo = max(0, start - history)
            piece = np.asarray(column[lo : start + chunk], dtype=np.float64)
            up = upfirdn(_PROTOTYPE, piece, up=4)
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
    `OVERSHOOT_BOUND` times above the samples around it), so a long track costs little more than a
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
        frame_peak = frame_peaks(x)
        self._peak = max(self._peak, float(frame_peak.max()))
        _, interval_peak = hot_interval_peaks(x, frame_peak, self._peak / OVERSHOOT_BOUND)
        if len(interval_peak):
            self._peak = max(self._peak, float(interval_peak.max()))
        self._history = x[-self._HISTORY :].copy()

    def true_peak_dbtp(self) -> float:
        """The true peak of everything added, in dBTP (-inf for silence). Ends the stream."""
        if not self._finished:
            self._scan(np.concatenate([self._history, np.zeros((self._HISTORY, self.channels), dtype=np.float32)]))
            self._finished = True
        return 20.0 * math.log10(self._peak) if self._peak > 0 else -math.inf


def frame_peaks(x: np.ndarray) -> np.ndarray:
    """max over channels of |x|, per frame."""
    return functools.reduce(np.maximum, [np.abs(x[:, ch]) for ch in range(x.shape[1])])


def hot_interval_peaks(x: np.ndarray, frame_peak: np.ndarray, hot_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The intervals m (between frames m and m+1) that could peak above `hot_level` × the Annex 2
    filter's largest gain, and the 4x-oversampled peak of each (max over phases and channels).

    Only intervals with their whole support x[m-5 .. m+6] inside the window are estimated. An interval
    whose support holds no sample above `hot_level` cannot exceed `hot_level * OVERSHOOT_BOUND`,
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
