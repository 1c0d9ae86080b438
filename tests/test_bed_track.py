"""attune.audio.bed_track: the bed under each run of a track, with equal-power crossfades where it changes."""

from __future__ import annotations

import numpy as np
import pytest

from attune.audio.bed_track import BedRun, BedTrack

SR = 1000  # a small rate: the crossfade is 4000 frames


class Constant:
    """A bed that is `level` everywhere (both channels)."""

    def __init__(self, level: float):
        self.level = level

    def render(self, start: int, n: int) -> np.ndarray:
        return np.full((n, 2), self.level, dtype=np.float32)


def test_one_bed_is_one_run_with_no_fade():
    bed = Constant(1.0)
    track = BedTrack([BedRun(0, 5000, bed, 0.5), BedRun(5000, 9000, bed, 0.5)], SR)
    assert track.single == BedRun(0, 9000, bed, 0.5)
    assert np.array_equal(track.render(0, 9000), np.full((9000, 2), 0.5, dtype=np.float32))


def test_change_of_bed_is_an_equal_power_crossfade_over_4_s():
    a, b = Constant(1.0), Constant(1.0)
    track = BedTrack([BedRun(0, 10_000, a, 1.0), BedRun(10_000, 20_000, b, 1.0)], SR)
    out_a = BedTrack([BedRun(0, 10_000, a, 1.0), BedRun(10_000, 20_000, None, 0.0)], SR).render(0, 20_000)[:, 0]
    in_b = BedTrack([BedRun(0, 10_000, None, 0.0), BedRun(10_000, 20_000, b, 1.0)], SR).render(0, 20_000)[:, 0]
    both = track.render(0, 20_000)[:, 0]
    np.testing.assert_allclose(both, out_a + in_b, atol=1e-6)
    # Full before 8 s, silent after 12 s; power constant through the change; half power at the boundary.
    assert out_a[7999] == 1.0 and out_a[12_000] == 0.0 and in_b[7999] == 0.0 and in_b[12_000] == 1.0
    np.testing.assert_allclose(out_a**2 + in_b**2, 1.0, atol=1e-6)
    assert out_a[10_000] ** 2 == pytest.approx(0.5, abs=1e-3)


def test_short_sections_shorten_the_crossfade():
    a, b = Constant(1.0), Constant(1.0)
    track = BedTrack([BedRun(0, 1000, a, 1.0), BedRun(1000, 10_000, b, 1.0)], SR)
    x = track.render(0, 10_000)[:, 0]
    assert x[0] == 1.0 and x[1600] == 1.0  # the crossfade is the first run's length: 1 s, 0.5..1.5 s
    assert np.all(x[400:1600] > 0.7)  # equal power: never below cos(45°) for equal beds


def test_no_bed_at_all_renders_none():
    assert BedTrack([BedRun(0, 1000, None, 0.0)], SR).render(0, 1000) is None
    assert not BedTrack([BedRun(0, 1000, None, 0.0)], SR).audible
