"""The block mixer: random access, ducking and fades, and memory that does not grow with length."""

import tracemalloc

import numpy as np
import pytest

from attune.audio.limiter import LimiterStats
from attune.audio.mix import BLOCK_FRAMES, CEILING_DBTP, DUCK_DB, Mixer, db_to_gain, duck_envelope, fade_envelope, mastered_blocks, voice_lufs
from attune.plan import Event, Plan, Sentence
from attune.timebase import SAMPLE_RATE as SR


def tone_clip(seconds, freq_hz=200.0, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def make_plan(passages=3, speech_s=2.0, pause_s=3.0):
    events, t = [], 0
    for i in range(passages):
        n = int(speech_s * SR)
        events.append(Event("speech", t, n, "A", f"p{i}", (Sentence(f"p{i}", 0, n, f"k{i % 2}"),)))
        t += n
        events.append(Event("pause", t, int(pause_s * SR), "A"))
        t += int(pause_s * SR)
    return Plan(tuple(events), t, t / SR, t / SR)


class ConstantBed:
    """A bed of constant value, so envelopes can be read straight off the mix."""

    def render(self, start, n):
        return np.ones((n, 2), dtype=np.float32)


CLIPS = {"k0": tone_clip(2.0), "k1": tone_clip(2.0, 300.0)}


def test_render_is_random_access():
    mixer = Mixer(make_plan(), CLIPS.__getitem__, bed=ConstantBed(), bed_gain=0.1)
    whole = mixer.render(0, mixer.n_frames)
    for start, n in [(0, 1000), (12345, 54321), (mixer.n_frames - 500, 1500), (-300, 600)]:
        part = mixer.render(start, n)
        lo = max(start, 0)
        hi = min(start + n, mixer.n_frames)
        np.testing.assert_array_equal(part[lo - start : hi - start], whole[lo:hi])
        assert not part[: max(0, -start)].any() and not part[hi - start :].any()


def test_speech_placed_at_planned_frames_on_both_channels():
    plan = make_plan()
    mixer = Mixer(plan, CLIPS.__getitem__)
    audio = mixer.render(0, plan.n_frames)
    np.testing.assert_array_equal(audio[:, 0], audio[:, 1])
    second = plan.events[2]
    np.testing.assert_array_equal(audio[second.start_frame : second.end_frame, 0], CLIPS["k1"])
    assert not audio[plan.events[1].start_frame : plan.events[1].end_frame].any()


def test_duck_and_fade_envelopes():
    plan = make_plan(passages=2, speech_s=4.0, pause_s=20.0)
    duck = duck_envelope(plan).render(0, plan.n_frames)
    assert duck[0] == pytest.approx(db_to_gain(DUCK_DB), rel=1e-4)  # speech at frame 0: ducked from the start
    speech = plan.events[2]
    assert duck[speech.start_frame + SR] == pytest.approx(db_to_gain(DUCK_DB), rel=1e-4)
    assert duck[speech.start_frame - 2 * SR] == pytest.approx(1.0)
    assert np.max(np.abs(np.diff(duck))) < 1e-4  # ramps, never steps
    fade = fade_envelope(plan.n_frames).render(0, plan.n_frames)
    assert fade[0] == 0 and fade[-1] == pytest.approx(0, abs=1e-4) and fade[plan.n_frames // 2] == 1


def test_envelope_constant_only_inside_flat_stretches():
    plan = make_plan(passages=2, speech_s=4.0, pause_s=20.0)
    duck = duck_envelope(plan)
    for start, n in [(0, 1000), (plan.events[2].start_frame - 2 * SR, 1000), (plan.events[2].start_frame - SR // 2, SR), (0, plan.n_frames)]:
        values = duck.render(start, n)
        flat = duck.constant(start, n)
        if flat is None:
            assert values.min() != values.max()
        else:
            assert np.all(values == np.float32(flat))
    assert duck.constant(0, 1000) == pytest.approx(db_to_gain(DUCK_DB))
    assert duck.constant(plan.events[2].start_frame - SR // 2, SR) is None  # the ramp down


def test_mastering_gain_and_limiter_ceiling():
    plan = make_plan()
    mixer = Mixer(plan, CLIPS.__getitem__)
    loud = np.concatenate(list(mastered_blocks(mixer, db_to_gain(12.0))))
    assert loud.shape == (plan.n_frames, 2)
    assert np.max(np.abs(loud)) <= db_to_gain(CEILING_DBTP) + 1e-4
    quiet = np.concatenate(list(mastered_blocks(mixer, 0.5)))
    np.testing.assert_allclose(quiet, mixer.render(0, plan.n_frames) * 0.5, atol=1e-6)


def test_limiter_stats_report_the_gain_reduction():
    mixer = Mixer(make_plan(), CLIPS.__getitem__)  # tones peaking at 0.3 (-10.5 dBFS)
    stats = LimiterStats()
    for _ in mastered_blocks(mixer, db_to_gain(12.0), stats=stats):
        pass
    # +12 dB puts the peaks at +1.5 dBFS: 3.5 dB over the -2 dBTP ceiling.
    assert CEILING_DBTP == -2.0
    assert stats.max_reduction_db == pytest.approx(3.5, abs=0.1)
    assert stats.limited_frames > 3 * 2 * SR * 0.9  # every speech frame of the three passages
    calm = LimiterStats()
    for _ in mastered_blocks(mixer, 1.0, stats=calm):
        pass
    assert calm.max_reduction_db == 0.0 and calm.limited_frames == 0


def test_voice_lufs_measures_the_speech_alone_as_laid_out():
    from attune.audio.meter import LoudnessMeter

    plan = make_plan(passages=3, speech_s=2.0, pause_s=30.0)
    expected = LoudnessMeter(SR, 2)
    for i in range(3):
        clip = CLIPS[f"k{i % 2}"]
        expected.add(np.repeat(clip[:, None], 2, axis=1))
    # Long pauses, a loud bed or bells change nothing: only the speech events are measured.
    assert voice_lufs(plan, CLIPS.__getitem__) == pytest.approx(expected.integrated_lufs(), abs=1e-6)
    silent = Plan((Event("pause", 0, SR * 10, "A"),), SR * 10, 10.0, 10.0)
    assert voice_lufs(silent, CLIPS.__getitem__) is None
    # Under one 400 ms gating block, the ungated loudness stands in.
    short = Plan((Event("speech", 0, SR // 5, "A", "hi", (Sentence("hi", 0, SR // 5, "k0"),)),), SR // 5, 0.2, 0.2)
    assert voice_lufs(short, lambda key: CLIPS[key][: SR // 5]) == pytest.approx(expected.integrated_lufs(), abs=0.2)


def peak_traced_mib(passages):
    plan = make_plan(passages=passages, speech_s=2.0, pause_s=60.0)
    mixer = Mixer(plan, CLIPS.__getitem__, bed=ConstantBed(), bed_gain=0.01)
    tracemalloc.start()
    try:
        voice_lufs(plan, CLIPS.__getitem__)
        for _ in mastered_blocks(mixer, 1.0):
            pass
        return tracemalloc.get_traced_memory()[1] / 2**20, plan.n_frames
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_track_length():
    short_mib, _short_frames = peak_traced_mib(2)  # ~2 minutes
    long_mib, long_frames = peak_traced_mib(20)  # ~20 minutes
    whole_track_mib = long_frames * 2 * 4 / 2**20
    assert long_mib < 4 * BLOCK_FRAMES * 2 * 4 * 8 / 2**20  # a few blocks' worth
    assert long_mib < whole_track_mib / 10
    assert long_mib < short_mib * 1.5 + 1
