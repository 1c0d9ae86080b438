"""Mix a plan into audio, block by block: speech and bells over a ducked, faded background bed.

The mix is a pure function of the frame range asked for (`Mixer.render(start, n)`), so the track
never sits in memory at once. The voice is the loudness anchor: `voice_lufs` measures the speech
alone, as laid out, and the bed and bells are set relative to it; `mastered_blocks` then renders
the blocks with the gain and a true-peak limiter for the encoder. Only clips that overlap the block
being rendered are loaded (a few at a time, kept in a small LRU cache).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..plan import Plan
from ..timebase import SAMPLE_RATE
from .bed_track import BedRun, BedTrack
from .limiter import LIMITER_CONTEXT_FRAMES, LimiterStats, limit_block
from .meter import LoudnessMeter

BLOCK_FRAMES = 65536
#: The bed dips by DUCK_DB under the voice, starting DUCK_ATTACK_S before speech, back DUCK_RELEASE_S after.
DUCK_DB = -6.0
DUCK_ATTACK_S = 0.4
DUCK_RELEASE_S = 0.9
BED_FADE_IN_S = 4.0
BED_FADE_OUT_S = 6.0
#: A bell sits this far below the voice in loudness.
BELL_RELATIVE_DB = -4.0
#: The limiter's ceiling: 1 dB under the -1 dBTP limit, headroom for a lossy encoder's overshoot
#: (measured on the decoded file; a render that still comes out over is encoded again).
CEILING_DBTP = -2.0


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


@dataclass(frozen=True)
class Envelope:
    """A piecewise-linear gain over frames, evaluated for any block with np.interp."""

    x: np.ndarray
    y: np.ndarray

    def render(self, start: int, n: int) -> np.ndarray:
        flat = self.constant(start, n)
        if flat is not None:
            return np.full(n, flat, dtype=np.float32)
        return np.interp(np.arange(start, start + n, dtype=np.float64), self.x, self.y).astype(np.float32)

    def constant(self, start: int, n: int) -> float | None:
        """The gain over frames [start, start+n) when it is the same for all of them, else None.

        Most blocks lie inside one flat stretch (full level, or fully ducked)."""
        lo, hi = np.searchsorted(self.x, [start, start + n - 1], side="right")
        if lo == hi and (lo == 0 or lo == len(self.x) or self.y[lo - 1] == self.y[lo]):
            return float(self.y[min(max(lo - 1, 0), len(self.y) - 1)])
        return None


def duck_envelope(plan: Plan, duck_db: float = DUCK_DB) -> Envelope:
    """1.0 in pauses, `duck_db` under speech, with linear ramps; close speech spans stay ducked between."""
    low = db_to_gain(duck_db)
    attack, release = DUCK_ATTACK_S * SAMPLE_RATE, DUCK_RELEASE_S * SAMPLE_RATE
    spans: list[list[float]] = []
    for start, end in plan.speech_spans():
        a, b = float(start), float(end)
        if spans and a - attack <= spans[-1][1] + release:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    xs: list[float] = []
    ys: list[float] = []
    for a, b in spans:  # merged spans are far enough apart that the points stay in order
        xs += [a - attack, a, b, b + release]
        ys += [1.0, low, low, 1.0]
    if not xs:
        xs, ys = [0.0, 1.0], [1.0, 1.0]
    return Envelope(np.array(xs), np.array(ys))


def fade_envelope(n_frames: int) -> Envelope:
    """The bed's fade-in at the start and fade-out at the end (shortened for very short tracks)."""
    fade_in = min(BED_FADE_IN_S * SAMPLE_RATE, n_frames / 3)
    fade_out = min(BED_FADE_OUT_S * SAMPLE_RATE, n_frames / 3)
    xs = np.array([0.0, fade_in, max(fade_in, n_frames - fade_out), float(n_frames)])
    return Envelope(xs, np.array([0.0, 1.0, 1.0, 0.0]))


class Mixer:
    """Renders any block of a planned track (before loudness gain), stereo float32."""

    def __init__(
        self,
        plan: Plan,
        load_clip: Callable[[str], np.ndarray],
        *,
        bed=None,
        bed_gain: float = 0.0,
        bell: np.ndarray | None = None,
        bell_gain: float = 1.0,
        voice_gain: float = 1.0,
        beds: BedTrack | None = None,
        soft_bell: np.ndarray | None = None,
    ):
        """`beds` is the bed under each part of the track (crossfaded where it changes); `bed` and
        `bed_gain` are the short form for one bed under the whole track. `soft_bell` is the interval
        bells' strike (at `bell_gain` too: its softness is in the strike); None: `bell`."""
        self.plan = plan
        self.n_frames = plan.n_frames
        self._clip = functools.lru_cache(maxsize=32)(load_clip)
        self._events = [e for e in plan.events if e.kind in ("speech", "bell", "interval_bell")]
        self._starts = [e.start_frame for e in self._events]
        self._longest = max((e.n_frames for e in self._events), default=0)
        if beds is None and bed is not None:
            beds = BedTrack([BedRun(0, plan.n_frames, bed, bed_gain)], SAMPLE_RATE)
        self.beds = beds if beds is not None and beds.audible else None
        self.bell = bell
        self.soft_bell = soft_bell if soft_bell is not None else bell
        self.bell_gain = bell_gain
        self.voice_gain = voice_gain
        self._duck = duck_envelope(plan)
        self._fade = fade_envelope(plan.n_frames)

    def render(self, start: int, n: int) -> np.ndarray:
        """Frames [start, start+n) of the mix; frames outside the track are silent."""
        lo, hi = max(start, 0), min(start + n, self.n_frames)
        if hi <= lo:
            return np.zeros((n, 2), dtype=np.float32)
        bed = None
        if self.beds is not None:
            # The bed's block is a new array, scaled in place; when it spans the whole block (nearly
            # always), it is the block itself.
            duck, fade = self._duck.constant(lo, hi - lo), self._fade.constant(lo, hi - lo)
            scale = duck * fade if duck is not None and fade is not None else self._duck.render(lo, hi - lo) * self._fade.render(lo, hi - lo)
            bed = self.beds.render(lo, hi - lo, scale)
        if bed is not None:
            if lo == start and hi - lo == n:
                out = bed
            else:
                out = np.zeros((n, 2), dtype=np.float32)
                out[lo - start : hi - start] = bed
        else:
            out = np.zeros((n, 2), dtype=np.float32)
        first = bisect.bisect_left(self._starts, lo - self._longest)
        last = bisect.bisect_right(self._starts, hi)
        for event in self._events[first:last]:
            if event.end_frame <= lo:
                continue
            if event.kind == "speech":
                for sentence in event.sentences:
                    a = event.start_frame + sentence.offset_frames
                    self._add(out, start, lo, hi, a, self._clip(sentence.clip_key), self.voice_gain)
            elif self.bell is not None:
                strike = self.soft_bell if event.kind == "interval_bell" and self.soft_bell is not None else self.bell
                self._add(out, start, lo, hi, event.start_frame, strike, self.bell_gain)
        return out

    @staticmethod
    def _add(out: np.ndarray, start: int, lo: int, hi: int, at: int, clip: np.ndarray, gain: float) -> None:
        a, b = max(lo, at), min(hi, at + clip.shape[0])
        if b <= a:
            return
        piece = clip[a - at : b - at]
        if piece.ndim == 1:
            piece = piece[:, None]
        out[a - start : b - start] += piece * np.float32(gain)

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[tuple[int, int]]:
        for start in range(0, self.n_frames, block_frames):
            yield start, min(block_frames, self.n_frames - start)


def voice_lufs(plan: Plan, load_clip: Callable[[str], np.ndarray]) -> float | None:
    """The integrated loudness (BS.1770) of the voice alone, as the plan lays it out: every speech event
    back to back, sentence gaps included, nothing under it and no bells. None when nothing is spoken.

    Speech of less than one 400 ms gating block has no integrated loudness; its ungated K-weighted
    loudness stands in for it.
    """
    spans = plan.speech_spans()
    if not spans:
        return None
    mixer = Mixer(plan, load_clip)  # no bed, no bell: the voice only
    meter = LoudnessMeter(SAMPLE_RATE, 2)
    for start, end in spans:
        for at in range(start, end, BLOCK_FRAMES):
            meter.add(mixer.render(at, min(BLOCK_FRAMES, end - at)))
    lufs = meter.integrated_lufs()
    if not np.isfinite(lufs):
        lufs = meter.ungated_lufs()
    return lufs if np.isfinite(lufs) else None


def limited_voice_lufs(plan: Plan, load_clip: Callable[[str], np.ndarray], gain_db: float, ceiling_dbtp: float) -> float | None:
    """The voice's integrated loudness after `gain_db` and the true-peak limiter at `ceiling_dbtp`:
    what the written file's voice will measure (before its codec), as `voice_lufs` lays it out.

    A peaky voice brought up to the target loses loudness where the limiter holds its peaks (Piper's
    joe: 0.5 LU at -16 LUFS, 5.9 dB of gain reduction on 7.6 s of a 4-minute track), and the file
    measured off target used to be encoded again. The limiter is a pure function of its window, so
    limiting the voice's own blocks here gives the same gain curve wherever no bed or bell sounds
    under the speech; a loud bed still moves it, and the written file is still measured."""
    spans = plan.speech_spans()
    if not spans:
        return None
    mixer = Mixer(plan, load_clip)  # no bed, no bell: the voice only, as voice_lufs measures it
    meter = LoudnessMeter(SAMPLE_RATE, 2)
    gain, context = db_to_gain(gain_db), LIMITER_CONTEXT_FRAMES
    for start, end in spans:
        for at in range(start, end, BLOCK_FRAMES):
            n = min(BLOCK_FRAMES, end - at)
            meter.add(limit_block(mixer.render(at - context, n + 2 * context), ceiling_dbtp, SAMPLE_RATE, gain))
    lufs = meter.integrated_lufs()
    if not np.isfinite(lufs):
        lufs = meter.ungated_lufs()
    return lufs if np.isfinite(lufs) else None


#: How close the voice, limited, must come to the target before the first encode (the written file
#: is measured either way, and encoded again beyond the mastering's own tolerance of 0.3 LU).
LIMITED_VOICE_TOLERANCE_LU = 0.1


def gain_through_limiter(plan: Plan, load_clip: Callable[[str], np.ndarray], gain_db: float, ceiling_dbtp: float, target_lufs: float) -> float:
    """`gain_db` raised by what the limiter at `ceiling_dbtp` takes from the voice, so that the voice
    comes out at `target_lufs` through it. Limiting is gentler than linear (more gain, more held), so
    two corrections at most; a voice whose peaks never reach the ceiling keeps `gain_db` at no cost
    beyond one limiter pass over its speech."""
    for _ in range(2):
        measured = limited_voice_lufs(plan, load_clip, gain_db, ceiling_dbtp)
        if measured is None or abs(target_lufs - measured) <= LIMITED_VOICE_TOLERANCE_LU:
            break
        gain_db += target_lufs - measured
    return gain_db


def windows(mixer: Mixer) -> Iterator[np.ndarray]:
    """Every block of the mix with the limiter's context on both sides: one mixing pass, which any
    number of `limit_block` calls (one per output format) turn into finished blocks."""
    context = LIMITER_CONTEXT_FRAMES
    for start, n in mixer.blocks():
        yield mixer.render(start - context, n + 2 * context)


def mastered_blocks(mixer: Mixer, gain: float, ceiling_dbtp: float = CEILING_DBTP, stats: LimiterStats | None = None) -> Iterator[np.ndarray]:
    """The mix with `gain` applied and true peaks held under `ceiling_dbtp`, block by block.

    `stats`, when given, collects how much gain reduction the limiter applied."""
    for window in windows(mixer):
        yield limit_block(window, ceiling_dbtp, SAMPLE_RATE, gain, stats)
