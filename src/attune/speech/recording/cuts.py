"""Where each sentence starts and ends in the take: at the quiet between words, found from the
take's energy, not at the recogniser's rough word edges.

The energy is measured in 10 ms windows of the take band-passed to 200–7500 Hz (hum and rumble
weigh little there). A window is quiet when it is under the take's own floor (its 10th percentile)
plus 10 dB, or 45 dB under its loud speech (the 95th percentile); bursts of sound shorter than 40 ms
(clicks) count as quiet. A sentence's speech starts where the pause its first recognised word falls in
ends (if it falls in sound: where the last pause of 0.25 s or more before it ends, or a shorter one),
and ends where the pause after its last word begins, the same way; the clip keeps breath room around that (`LEAD_S`, `TAIL_S`), never reaching
into the neighbouring speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW_S = 0.01
#: A pause between sentences is at least this long; a gap between words is usually shorter.
PAUSE_S = 0.25
SHORT_PAUSE_S = 0.1
CLICK_S = 0.04
#: How far outside the recogniser's word edges the speech edge may be.
SEARCH_BEFORE_S = 1.0
#: Breath room kept before the speech starts and after it ends (faded in and out over it).
LEAD_S = 0.12
TAIL_S = 0.2


#: A pause this long inside a sentence's span may follow a false start the recogniser did not hear.
RETAKE_PAUSE_S = 0.6
#: The false start's sound matches the start of what follows this much better than its middle.
RETAKE_MATCH_RATIO = 0.6


@dataclass(frozen=True)
class Envelope:
    """Which 10 ms windows of the take are quiet, and each window's spectral shape (16 log bands, each
    band's mean over the take taken off), for telling a false start from the reading after it."""

    quiet: np.ndarray
    bands: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return self.quiet.size * WINDOW_S


def envelope(samples: np.ndarray, rate_hz: int) -> Envelope:
    from scipy.signal import butter, sosfilt

    sos = butter(4, [200.0, min(7500.0, rate_hz * 0.47)], btype="bandpass", fs=rate_hz, output="sos")
    band = sosfilt(sos, samples.astype(np.float64))
    window = max(1, round(rate_hz * WINDOW_S))
    usable = band[: band.size // window * window].reshape(-1, window)
    level_db = 10 * np.log10(np.mean(usable**2, axis=1) + 1e-12)
    if level_db.size == 0:
        return Envelope(np.ones(0, dtype=bool))
    floor_db, loud_db = np.percentile(level_db, [10, 95])
    threshold_db = max(floor_db + 10.0, loud_db - 45.0)
    quiet = level_db < threshold_db
    spectrum = np.abs(np.fft.rfft(samples[: usable.shape[0] * window].astype(np.float64).reshape(-1, window) * np.hanning(window), axis=1)) ** 2
    edges = np.unique(np.geomspace(2, spectrum.shape[1] - 1, 17).astype(int))
    bands = np.log10(np.add.reduceat(spectrum, edges[:-1], axis=1) + 1e-10)
    bands -= bands.mean(axis=0)
    # Sound shorter than a click is quiet.
    click = round(CLICK_S / WINDOW_S)
    for start, stop in _runs(~quiet):
        if stop - start < click:
            quiet[start:stop] = True
    return Envelope(quiet, bands)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `mask`."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def speech_edges(env: Envelope, first_word_s: float, last_word_s: float, after_prev_s: float, before_next_s: float) -> tuple[float, float]:
    """The sentence's speech start and end (seconds) near the recogniser's `first_word_s..last_word_s`,
    between `after_prev_s` and `before_next_s` (the middles of the neighbouring heard words).

    A recogniser's edge that falls in a pause snaps to that pause's edge; one that falls in sound moves
    out to the nearest pause of PAUSE_S (else SHORT_PAUSE_S) on the outer side."""
    n = env.quiet.size
    pauses = _runs(env.quiet)

    def idx(t: float) -> int:
        return int(np.clip(round(t / WINDOW_S), 0, n))

    def long(min_s: float) -> list[tuple[int, int]]:
        return [(a, b) for a, b in pauses if b - a >= round(min_s / WINDOW_S)]

    first, last = idx(first_word_s), idx(last_word_s)
    middle = (first + last) // 2
    # The start: the end of the pause the recogniser's first edge is in, else of the last one before it.
    lo = idx(max(min(after_prev_s, first_word_s), first_word_s - SEARCH_BEFORE_S, 0.0))
    start = next((b for a, b in long(PAUSE_S) if a <= first < b and b <= middle), None)
    for min_s in (PAUSE_S, SHORT_PAUSE_S):
        if start is None:
            ends = [b for a, b in long(min_s) if lo <= b <= first]
            start = ends[-1] if ends else None
    if start is None:
        start = first
    # The end: the start of the pause the last edge is in, else of the first one after it.
    hi = idx(min(max(before_next_s, last_word_s), last_word_s + SEARCH_BEFORE_S))
    end = next((a for a, b in long(PAUSE_S) if a <= last < b and a > start), None)
    for min_s in (PAUSE_S, SHORT_PAUSE_S):
        if end is None:
            starts = [a for a, b in long(min_s) if last <= a <= hi]
            end = starts[0] if starts else None
    if end is None:
        end = last
    if end <= start:
        start, end = first, max(last, first + 1)
    return start * WINDOW_S, end * WINDOW_S


def after_false_start(env: Envelope, start_s: float, end_s: float) -> float:
    """Where the sentence's last complete reading starts, when the recogniser heard a false start and
    the reading after it as one (it may drop a repeated phrase): a pause of RETAKE_PAUSE_S or more
    inside the span, whose sound before matches the start of the sound after it (by dynamic time
    warping of the spectral shapes) much better than the middle of it. Else `start_s` unchanged."""
    if env.bands is None:
        return start_s
    s, e = round(start_s / WINDOW_S), round(end_s / WINDOW_S)
    for a, b in _runs(env.quiet[s:e]):
        a, b = a + s, b + s
        if b - a < round(RETAKE_PAUSE_S / WINDOW_S) or a - s < 20 or a - s > e - b:
            continue
        first = env.bands[s:a]
        n = first.shape[0]
        at_start = _dtw_cost(first, env.bands[b : min(e, b + round(1.5 * n))])
        middle = b + (e - b - n) // 2
        at_middle = _dtw_cost(first, env.bands[middle : min(e, middle + round(1.5 * n))])
        if at_start < RETAKE_MATCH_RATIO * at_middle:
            return b * WINDOW_S
    return start_s


def _dtw_cost(x: np.ndarray, y: np.ndarray) -> float:
    """Mean distance along the best warping of all of `x` onto a prefix of `y`."""
    if x.shape[0] == 0 or y.shape[0] == 0:
        return float("inf")
    d = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2))
    acc = np.full((x.shape[0] + 1, y.shape[0] + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, x.shape[0] + 1):
        row = acc[i - 1]
        for j in range(1, y.shape[0] + 1):
            acc[i, j] = d[i - 1, j - 1] + min(row[j - 1], row[j], acc[i, j - 1])
    return float(np.min(acc[-1, 1:]) / x.shape[0])


def clip_bounds(start_s: float, end_s: float, prev_end_s: float, next_start_s: float) -> tuple[float, float]:
    """The clip's edges: breath room around the speech, but not into the neighbouring speech's half of a gap."""
    lo = max(start_s - LEAD_S, (prev_end_s + start_s) / 2, 0.0)
    hi = min(end_s + TAIL_S, (end_s + next_start_s) / 2)
    return lo, hi
