"""Where each sentence starts and ends in the take: at the quiet between words, found from the
take's energy, not at the recogniser's rough word edges.

The energy is measured in 10 ms windows of the take band-passed to 200–7500 Hz (hum and rumble
weigh little there). A window is quiet when it is under the take's own floor (its 10th percentile)
plus 10 dB, or 45 dB under its loud speech (the 95th percentile); bursts of sound shorter than 40 ms
(clicks) count as quiet. A quiet edge of a word (a soft `s`, `f` or `h`, a breathy ending) can sit
under that threshold: it is still sound while the level smoothed over 50 ms stays 3 dB above the
room's own (the median of the quiet windows), and an edge moves out over it.

A sentence's speech starts at the end of the pause with most of itself between the start of the word
heard before it (at most 2 s back) and the end of its first word (the recogniser often starts a word
early, in the pause before it, or late, inside it), and ends at the start of the pause with most of
itself between the start of its last word and the end of the next word heard. The clip keeps breath
room around that (`LEAD_S`, `TAIL_S`), never reaching into the neighbouring speech.

A retake the recogniser heard as one reading ("Or may… Or, may you be free", heard as "Or may you be
free") is split where it paused: a pause inside a sentence's speech is a retake's when the sound just
before it is heard again just after it (dynamic time warping of the spectral shapes), much closer than
to the rest of the speech; the reading after the last such pause is the one used.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .match import tokens

WINDOW_S = 0.01
#: Gaps shorter than this are not pauses (a stop consonant's closure is about 50–100 ms).
SHORT_PAUSE_S = 0.06
CLICK_S = 0.04
#: How far outside the recogniser's word edges the speech edge may be.
SEARCH_BEFORE_S = 2.0
SEARCH_AFTER_S = 2.0
#: Breath room kept before the speech starts and after it ends (faded in and out over it).
LEAD_S = 0.12
TAIL_S = 0.2
#: A word's soft edge is sound while its level (smoothed over SOFT_SMOOTH_S) is this far over the room's.
SOFT_EDGE_DB = 3.0
SOFT_SMOOTH_S = 0.05
#: …with dips this short between a word's soft parts.
SOFT_GAP_S = 0.1

#: A pause this long inside a sentence's speech may follow a false start.
RETAKE_PAUSE_S = 0.3
#: A false start is at least this long.
RETAKE_MIN_S = 0.15
#: The sound before the pause compared with what follows it: its last RETAKE_TAIL_S.
RETAKE_TAIL_S = 0.6
#: The false start's tail matches the sound just after the pause this much better than the rest of the
#: speech does, where the first word heard after the pause was heard before it too (a repeat)…
RETAKE_MATCH_RATIO = 0.7
#: …or this much, where the words heard give no sign either way (a repeat misheard)…
RETAKE_PLAIN_RATIO = 0.6
#: …or this much, where the recogniser heard words just after the pause this much less densely than
#: before it (it dropped the repeat, and stretched a word or two over it).
#: Measured on the stress set (seeds 23-26, 48 retakes, 120 other pauses inside sentences): pauses before
#: a repeat heard scored 0.18-0.96, those before a repeat misheard 0.18-0.58, those before a dropped repeat
#: 0.28-0.77 (density 0.15-0.36); the other pauses scored 0.66 or more with no repeat heard, 0.78 or more
#: with one, and of those under 0.9 none had a density under 0.71.
RETAKE_DROPPED_RATIO = 0.9
#: How far back a word heard again after the pause is looked for.
REPEAT_REACH_S = 3.0
RETAKE_DROPPED_DENSITY = 0.4


@dataclass(frozen=True)
class Envelope:
    """Which 10 ms windows of the take are quiet (`quiet`), which are at least the soft edge of a word
    (`soft`), and each window's spectral shape (16 log bands, each band's mean over the take taken
    off), for telling a false start from the reading after it."""

    quiet: np.ndarray
    bands: np.ndarray | None = None
    soft: np.ndarray | None = None

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
    room_db = float(np.median(level_db[quiet])) if quiet.any() else floor_db
    smooth = max(1, round(SOFT_SMOOTH_S / WINDOW_S))
    smoothed_db = 10 * np.log10(np.convolve(10 ** (level_db / 10), np.ones(smooth) / smooth, mode="same") + 1e-12)
    soft = smoothed_db > room_db + SOFT_EDGE_DB
    spectrum = np.abs(np.fft.rfft(samples[: usable.shape[0] * window].astype(np.float64).reshape(-1, window) * np.hanning(window), axis=1)) ** 2
    edges = np.unique(np.geomspace(4, spectrum.shape[1] - 1, 17).astype(int))
    power = np.add.reduceat(spectrum, edges[:-1], axis=1)
    # Each band in dB-like units over 6 dB above its own room noise (what is under that compares equal), smoothed over 30 ms.
    room = np.percentile(power, 20, axis=0) * 4.0 + 1e-12
    bands = np.log10(np.maximum(power, room) / room)
    bands = (bands + np.roll(bands, 1, axis=0) + np.roll(bands, -1, axis=0)) / 3.0
    # Sound shorter than a click is quiet.
    click = round(CLICK_S / WINDOW_S)
    for start, stop in _runs(~quiet):
        if stop - start < click:
            quiet[start:stop] = True
    return Envelope(quiet, bands, soft)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `mask`."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def _longest_pause(pauses: list[tuple[int, int]], lo: int, hi: int) -> tuple[int, int] | None:
    """The pause with the most of itself inside lo..hi (the later of two as long), if any."""
    best, best_len = None, 0
    for a, b in pauses:
        inside = min(b, hi) - max(a, lo)
        if inside > 0 and inside >= best_len:
            best, best_len = (a, b), inside
    return best


def speech_edges(
    env: Envelope, first_word: tuple[float, float], last_word: tuple[float, float], after_prev_s: float, before_next_s: float
) -> tuple[float, float]:
    """The sentence's speech start and end (seconds) near the recogniser's first and last words
    ((start_s, end_s) each), between `after_prev_s` and `before_next_s` (the start of the word heard
    before and the end of the word heard after, or the take's ends)."""
    n = env.quiet.size

    def idx(t: float) -> int:
        return int(np.clip(round(t / WINDOW_S), 0, n))

    pauses = [(a, b) for a, b in _runs(env.quiet) if b - a >= round(SHORT_PAUSE_S / WINDOW_S) or a == 0 or b == n]
    middle = (idx(first_word[0]) + idx(last_word[1])) // 2
    # The start: the end of the pause with most of itself between the start of the word heard before and the first word's end.
    lo = idx(max(after_prev_s, first_word[0] - SEARCH_BEFORE_S, 0.0))
    hi = max(lo + 1, min(idx(first_word[1]), middle))
    pause = _longest_pause(pauses, lo, hi)
    start = pause[1] if pause is not None else idx(first_word[0])
    floor_at = pause[0] if pause is not None else lo
    # The end: the start of the pause with most of itself between the last word's start and the end of the word heard next.
    lo_end = max(idx(last_word[0]), middle, start + 1)
    hi_end = max(lo_end + 1, idx(min(before_next_s, last_word[1] + SEARCH_AFTER_S)))
    pause = _longest_pause([(a, b) for a, b in pauses if a >= start], lo_end, hi_end)
    end = pause[0] if pause is not None else idx(last_word[1])
    ceiling_at = pause[1] if pause is not None else hi_end
    if end <= start:
        start, end = idx(first_word[0]), max(idx(last_word[1]), idx(first_word[0]) + 1)
    elif env.soft is not None:
        # Out over a word's soft edges (with dips of up to SOFT_GAP_S between them), not across the pause.
        gap = round(SOFT_GAP_S / WINDOW_S)
        base = floor_at + 1
        for a, b in reversed(_runs(env.soft[base:start])):
            if start - (base + b) > gap:
                break
            start = base + a
        base = end
        for a, b in _runs(env.soft[base : max(base, ceiling_at - 1)]):
            if base + a - end > gap:
                break
            end = base + b
    return start * WINDOW_S, end * WINDOW_S


def after_false_start(env: Envelope, start_s: float, end_s: float, words: Sequence = ()) -> float:
    """Where the sentence's last complete reading starts, when the recogniser heard a false start and
    the reading after it as one (it often drops a repeated phrase): the end of the last pause of
    RETAKE_PAUSE_S or more inside the speech whose sound before it (its last RETAKE_TAIL_S) is heard
    again just after it, by dynamic time warping of the spectral shapes, much closer than anywhere
    further on (how much closer depends on the `words` heard: less when the first word after the pause
    was heard before it, less still when few words were heard after it). Else `start_s` unchanged."""
    if env.bands is None:
        return start_s
    s, e = round(start_s / WINDOW_S), round(end_s / WINDOW_S)
    words = list(words)
    middles = np.array([(w.start_s + w.end_s) / 2 for w in words], dtype=np.float64) / WINDOW_S
    inside = [w for w in words if w.end_s > s * WINDOW_S and w.start_s < e * WINDOW_S]  # the only words whose letters can count below
    reading = s
    for a, b in _runs(env.quiet[s:e]):
        a, b = a + s, b + s
        if b - a < round(RETAKE_PAUSE_S / WINDOW_S) or a - s < round(RETAKE_MIN_S / WINDOW_S) or a - s > e - b:
            continue
        tail = env.bands[max(s, a - round(RETAKE_TAIL_S / WINDOW_S)) : a]
        # A false start of length L is read again within the first L (and a little) after the pause…
        soon = min(e, b + (a - s) + round(0.4 / WINDOW_S))
        again = _subsequence_dtw_cost(tail, env.bands[b:soon])
        # …and is much closer to it than to other speech: the rest of this sentence, the speech before and after it.
        around = round(3.0 / WINDOW_S)
        others = (env.bands[soon:e], env.bands[max(0, s - around) : max(0, s - 5)], env.bands[e + 5 : e + around])
        elsewhere = min(_subsequence_dtw_cost(tail, other) for other in others)
        if not np.isfinite(elsewhere):
            continue
        heard_before = np.count_nonzero((middles >= s) & (middles < a)) / (a - s)
        heard_after = np.count_nonzero((middles >= b) & (middles < soon)) / max(1, soon - b)
        # Words heard after the pause, by their middles or by their letters (a word stretched over the
        # pause and the repeat after it brings few letters into the sound after the pause).
        letters_before, letters_after = _letters_per_s(inside, s * WINDOW_S, a * WINDOW_S), _letters_per_s(inside, b * WINDOW_S, soon * WINDOW_S)
        sparse = heard_after <= RETAKE_DROPPED_DENSITY * heard_before or letters_after <= RETAKE_DROPPED_DENSITY * letters_before
        dropped = heard_before * (a - s) >= 2 and sparse
        ratio = RETAKE_DROPPED_RATIO if dropped else RETAKE_MATCH_RATIO if _repeats(words, a, b, soon) else RETAKE_PLAIN_RATIO
        if again < ratio * elsewhere:
            reading = b
    return reading * WINDOW_S


def _letters_per_s(words: Sequence, lo_s: float, hi_s: float) -> float:
    """The letters heard per second from `lo_s` to `hi_s`, each word's letters shared out over its span."""
    letters = 0.0
    for w in words:
        overlap = min(hi_s, w.end_s) - max(lo_s, w.start_s)
        if overlap > 0:
            letters += sum(len(tok) for tok in tokens(w.text)) * overlap / max(w.end_s - w.start_s, WINDOW_S)
    return letters / max(hi_s - lo_s, WINDOW_S)


def _repeats(words: Sequence, a: int, b: int, soon: int) -> bool:
    """Whether the first word heard in windows b..soon was heard in the REPEAT_REACH_S before a too
    (by its middle: the false start's words may be heard as extra speech before the sentence)."""

    def heard(lo: int, hi: int) -> list[str]:
        return [tok for w in words if lo <= (w.start_s + w.end_s) / 2 / WINDOW_S < hi for tok in tokens(w.text)]

    after = heard(b, soon)
    return bool(after) and after[0] in heard(a - round(REPEAT_REACH_S / WINDOW_S), a)


def _subsequence_dtw_cost(x: np.ndarray, y: np.ndarray) -> float:
    """Mean distance along the best warping of all of `x` onto any stretch of `y` (free start and end)."""
    if x.shape[0] == 0 or y.shape[0] < max(2, x.shape[0] // 2):
        return float("inf")
    d = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2))
    acc = np.full((x.shape[0] + 1, y.shape[0] + 1), np.inf)
    acc[0, :] = 0.0
    for i in range(1, x.shape[0] + 1):
        row = acc[i - 1]
        cur = acc[i]
        diag_or_up = np.minimum(row[:-1], row[1:]) + d[i - 1]
        # Horizontal steps (y advancing while x stays) run left to right.
        for j in range(1, y.shape[0] + 1):
            cur[j] = min(diag_or_up[j - 1], cur[j - 1] + d[i - 1, j - 1])
    return float(np.min(acc[-1, 1:]) / x.shape[0])


def pauses_between_words(env: Envelope, words) -> list[float]:
    """For each two words heard in turn, the longest quiet (seconds) that reaches in between the middles
    of the two, all of it: a recogniser often stretches a word into the pause after it."""
    runs = np.array(_runs(env.quiet), dtype=np.int64).reshape(-1, 2)
    lengths = runs[:, 1] - runs[:, 0]
    out = []
    for a, b in itertools.pairwise(words):
        lo, hi = (a.start_s + a.end_s) / 2 / WINDOW_S, (b.start_s + b.end_s) / 2 / WINDOW_S
        first, last = np.searchsorted(runs[:, 1], lo, "right"), np.searchsorted(runs[:, 0], hi, "left")
        out.append(float(lengths[first:last].max()) * WINDOW_S if last > first else 0.0)
    return out


def clip_bounds(start_s: float, end_s: float, prev_end_s: float, next_start_s: float) -> tuple[float, float]:
    """The clip's edges: breath room around the speech, but not into the neighbouring speech's half of a gap."""
    lo = max(start_s - LEAD_S, (prev_end_s + start_s) / 2, 0.0)
    hi = min(end_s + TAIL_S, (end_s + next_start_s) / 2)
    return lo, hi
