"""The bed under a track: which bed plays where, with an equal-power crossfade where it changes.

A section may have its own background (`background:` in YAML, `(background rain.ogg)` on a Markdown
heading). `BedTrack` holds the runs of the timeline with one bed (or none) at one gain and renders any
block of their sum: at each change the outgoing run fades out with cos and the incoming one in with
sin over CROSSFADE_S centred on the boundary, so the power stays constant through the change. Every
bed is rendered at the track's own frame numbers, so a bed that comes back continues where its
timeline is, and one that runs over several sections is not interrupted.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The crossfade between two sections' beds (shortened when a section is shorter than this).
CROSSFADE_S = 4.0


@dataclass(frozen=True)
class BedRun:
    """Frames [start_frame, end_frame) have `bed` (None: no bed) at linear `gain`."""

    start_frame: int
    end_frame: int
    bed: object | None
    gain: float


class BedTrack:
    """The runs of a track's bed, crossfaded; `render` gives any block of the bed (already at its gain)."""

    def __init__(self, runs: Sequence[BedRun], sample_rate: int, crossfade_s: float = CROSSFADE_S):
        merged: list[BedRun] = []
        for run in runs:
            if run.end_frame <= run.start_frame:
                continue
            last = merged[-1] if merged else None
            if last is not None and last.bed is run.bed and last.gain == run.gain and last.end_frame == run.start_frame:
                merged[-1] = BedRun(last.start_frame, run.end_frame, last.bed, last.gain)
            else:
                merged.append(run)
        self.runs = tuple(merged)
        full = round(crossfade_s * sample_rate)
        # The crossfade at the boundary before run i (none before the first).
        self._fades = [0] + [min(full, a.end_frame - a.start_frame, b.end_frame - b.start_frame) for a, b in itertools.pairwise(merged)] + [0]

    @property
    def audible(self) -> bool:
        return any(run.bed is not None and run.gain > 0 for run in self.runs)

    @property
    def single(self) -> BedRun | None:
        """The one run, when the whole track has one bed (no crossfade anywhere)."""
        return self.runs[0] if len(self.runs) == 1 else None

    def span(self, i: int) -> tuple[int, int, int, int]:
        """Run i sounds over [a, b): fading in over [a, a + fade_in) and out over [b - fade_out, b)."""
        run = self.runs[i]
        fade_in, fade_out = self._fades[i], self._fades[i + 1]
        return run.start_frame - fade_in // 2, run.end_frame + (fade_out - fade_out // 2), fade_in, fade_out

    def render(self, start: int, n: int, scale: float | np.ndarray = 1.0) -> np.ndarray | None:
        """Frames [start, start + n) of the bed times `scale` (a number, or one gain per frame); None when
        no bed sounds there. A new array."""
        out: np.ndarray | None = None
        for i, run in enumerate(self.runs):
            if run.bed is None or run.gain <= 0:
                continue
            a, b, fade_in, fade_out = self.span(i)
            lo, hi = max(a, start), min(b, start + n)
            if hi <= lo:
                continue
            piece = run.bed.render(lo, hi - lo)  # type: ignore[attr-defined]
            gain: float | np.ndarray = run.gain
            if lo < a + fade_in or hi > b - fade_out:
                frames = np.arange(lo, hi, dtype=np.float64)
                env = np.ones(hi - lo)
                if fade_in:
                    env *= np.sin(0.5 * np.pi * np.clip((frames - a + 0.5) / fade_in, 0.0, 1.0))
                if fade_out:
                    env *= np.cos(0.5 * np.pi * np.clip((frames - (b - fade_out) + 0.5) / fade_out, 0.0, 1.0))
                gain = env * run.gain
            if isinstance(scale, np.ndarray):
                gain = gain * scale[lo - start : hi - start]
            else:
                gain = gain * scale
            if isinstance(gain, np.ndarray):
                piece *= gain.astype(np.float32)[:, None]
            else:
                piece *= np.float32(gain)
            if out is None and lo == start and hi - lo == n:
                out = piece
            else:
                if out is None:
                    out = np.zeros((n, 2), dtype=np.float32)
                out[lo - start : hi - start] += piece
        return out
