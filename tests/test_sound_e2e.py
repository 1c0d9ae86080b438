"""Sound design end to end: every background rendered with the real engine into a real MP3, measured."""

from __future__ import annotations

import json

import mutagen.id3
import numpy as np
import pytest

from attune.loudness import LoudnessMeter
from attune.render import RenderRequest, plan_script, render
from audio_helpers import decode, ffmpeg_ebur128, rms_dbfs, spectrum_peaks

pytestmark = pytest.mark.engine

SCRIPT = """\
title: Sound check
bells: {start: true, end: false}
vars: {name: friend}
sections:
  - name: One
    text: |
      Let the body settle. [pause 8s]
      Notice the breath, as it is. [pause 8s..1m]
  - name: Two
    text: |
      Rest here, {name}. [pause 6s]
"""


@pytest.fixture(scope="module")
def script_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sound") / "sound.yaml"
    path.write_text(SCRIPT)
    return path


@pytest.fixture(scope="module")
def rendered(script_file, shared_engine_cache, tmp_path_factory):
    """Render each background once for the module; tests measure the same files."""
    folder = tmp_path_factory.mktemp("renders")
    done = {}

    def get(background, **options):
        key = (json.dumps(background, sort_keys=True), tuple(sorted(options.items())))
        if key not in done:
            out = folder / f"r{len(done)}.mp3"
            result = render(RenderRequest(script_file, out, length_s=45.0, background=background, **options), cache_dir=shared_engine_cache)
            done[key] = (result, out)
        return done[key]

    return get


def windows(result, kind, margin_s=1.2):
    """Audio windows inside every event of `kind`, away from its edges (ramps, bell tails)."""
    return [(e.start_s + margin_s, e.start_s + e.duration_s - 0.3) for e in result.plan.events
            if e.kind == kind and e.duration_s > margin_s + 1.0]


def cut(audio, sr, span):
    return audio[int(span[0] * sr): int(span[1] * sr)]


@pytest.mark.parametrize("background", ["none", "drone", "binaural", "pink-noise", "brown-noise", "white-noise", "soft-rain.ogg"])
def test_every_background_meets_loudness_and_levels(rendered, background):
    result, out = rendered(background)
    audio, sr = decode(out)
    assert abs(audio.shape[0] / sr - 45.0) < 0.05
    independent = ffmpeg_ebur128(out)
    assert independent["integrated_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert independent["true_peak_dbtp"] <= -1.0
    ours = LoudnessMeter(sr, 2)
    ours.add(audio)
    assert ours.integrated_lufs() == pytest.approx(independent["integrated_lufs"], abs=0.3)

    pauses = [rms_dbfs(cut(audio, sr, w)) for w in windows(result, "pause")[1:]]  # the first follows the bell
    speech = [rms_dbfs(cut(audio, sr, (e.start_s, e.start_s + e.duration_s))) for e in result.plan.events if e.kind == "speech"]
    if background == "none":
        assert max(pauses) < -60
    else:
        # The bed stays audible but soft in the pauses, and the voice stands well above it.
        assert all(-60 < p < -15 for p in pauses), pauses
        assert min(speech) - max(pauses) >= 10


def test_binaural_beat_is_in_the_left_and_right_spectra(rendered):
    result, out = rendered({"kind": "binaural", "carrier_hz": 180, "beat_hz": 6})
    audio, sr = decode(out)
    pause = max(windows(result, "pause"), key=lambda w: w[1] - w[0])
    piece = cut(audio, sr, pause)
    left = spectrum_peaks(piece[:, 0], sr, n=1, max_hz=1000)[0][0]
    right = spectrum_peaks(piece[:, 1], sr, n=1, max_hz=1000)[0][0]
    assert left == pytest.approx(180.0, abs=0.5)
    assert right == pytest.approx(186.0, abs=0.5)


def test_bell_rings_and_decays(rendered):
    result, out = rendered("none")
    bell = result.plan.events[0]
    assert bell.kind == "bell" and bell.duration_s == pytest.approx(7.0)
    audio, sr = decode(out)
    levels = [rms_dbfs(cut(audio, sr, (t, t + 0.25))) for t in np.arange(0.0, 6.5, 0.5)]
    peak = max(levels)
    assert -30 < peak < -6  # about as present as the voice, never louder than a word
    rings_s = 0.5 * sum(1 for level in levels if level > peak - 40)
    assert rings_s >= 2.0
    tail = levels[levels.index(peak):]
    assert all(b <= a + 1.0 for a, b in zip(tail, tail[1:]))  # decays, without swelling back
    assert levels[-1] < peak - 25


def test_bells_flag_and_plan_show_bell_events(script_file, shared_engine_cache):
    with_bells = plan_script(RenderRequest(script_file, length_s=45.0, bells=True), cache_dir=shared_engine_cache)
    kinds = [e.kind for e in with_bells.events]
    assert kinds[0] == "bell" and kinds[-1] == "bell"
    assert with_bells.events[-1].duration_s == pytest.approx(7.0)
    without = plan_script(RenderRequest(script_file, length_s=45.0, bells=False), cache_dir=shared_engine_cache)
    assert "bell" not in [e.kind for e in without.events]


def test_loudness_target_option(script_file, tmp_path, shared_engine_cache):
    out = tmp_path / "quiet.mp3"
    render(RenderRequest(script_file, out, length_s=45.0, background="drone", loudness_lufs=-23.0), cache_dir=shared_engine_cache)
    assert ffmpeg_ebur128(out)["integrated_lufs"] == pytest.approx(-23.0, abs=1.0)


def test_tags_chapters_and_captions_of_a_real_render(script_file, tmp_path, shared_engine_cache):
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    out = tmp_path / "tagged.mp3"
    result = render(RenderRequest(script_file, out, length_s=45.0, captions=True, cover=cover, artist="Dr. Rivera", album="Week 1"), cache_dir=shared_engine_cache)
    tags = mutagen.id3.ID3(out)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == "Sound check" and str(tags["TPE1"]) == "Dr. Rivera" and str(tags["TALB"]) == "Week 1"
    assert tags.getall("APIC")[0].data == cover.read_bytes()
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["One", "Two"]
    assert chapters[0].start_time == 0 and chapters[-1].end_time == 45000
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chapters]
    vtt = result.captions_path.read_text("utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(result.plan.cues()) == 3
    assert "Rest here, friend." in vtt
