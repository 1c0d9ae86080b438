"""Sound design end to end: every background rendered with the real engine into a real MP3, measured.

The voice is the loudness anchor. The script here is sparse (three sentences, minutes of silence,
two bells): the case where normalising the whole mix put the voice 6-7 LU too loud. Every figure
is checked against ffmpeg's own ebur128 meter on the file Attune wrote.
"""

from __future__ import annotations

import itertools
import json
import re

import mutagen.id3
import numpy as np
import pytest
from click.testing import CliRunner

from attune.audio.meter import LoudnessMeter
from attune.cli import cli
from attune.render import plan_script, render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import decode, ffmpeg_ebur128, rms_dbfs, spectrum_peaks, speech_spans_s, voice_ebur128

pytestmark = pytest.mark.engine

SPARSE = """\
title: Quiet sit
bells: {start: true, end: true}
vars: {name: friend}
sections:
  - name: Arriving
    text: |
      Let yourself settle, {name}. [pause 20s..]
  - name: Resting
    text: |
      Rest with the breath, just as it is. [pause 30s..]
      When you are ready, open your eyes. [pause 5s]
"""

BACKGROUNDS = ["none", "drone", "binaural", "pink-noise", "brown-noise", "white-noise", "soft-rain.ogg"]
#: Every background in CI; `make test` leaves drone and white noise (synthesised like the other
#: beds, which it renders) to the `long` marker to stay under two minutes.
BACKGROUND_PARAMS = [pytest.param(b, marks=pytest.mark.long if b in ("drone", "white-noise") else ()) for b in BACKGROUNDS]
#: The renders' length: the shortest this script fits is 1m16s. At 80 s the pauses still hold 16 and 27 s
#: windows away from their edges, the track is as sparse (speech and bells are a fifth of it), and the
#: figures are those of 120 s (measured: voice -16.0 LUFS, beds -38.0 ± 0.6 LUFS in the pauses, track
#: -17.4 LUFS with no bed at both lengths, -18.1 to -18.2 with a bed here, -18.2 to -19.4 at 120 s), for
#: two thirds of the cost.
LENGTH_S = 80.0


@pytest.fixture(scope="module")
def script_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sound") / "quiet-sit.yaml"
    path.write_text(SPARSE)
    return path


@pytest.fixture(scope="module")
def rendered(script_file, shared_engine_cache, tmp_path_factory):
    """Render each (background, options) once for the module; tests measure the same files."""
    folder = tmp_path_factory.mktemp("renders")
    done = {}

    def get(background, length_s=LENGTH_S, **options):
        key = (json.dumps(background, sort_keys=True), length_s, tuple(sorted(options.items())))
        if key not in done:
            out = folder / f"r{len(done)}.mp3"
            result = render(
                RenderRequest(script_file, out, settings=TrackSettings(length_s=length_s, background=background, **options)), cache_dir=shared_engine_cache
            )
            done[key] = (result, out)
        return done[key]

    return get


def windows(result, kind, margin_s=1.2):
    """Audio windows inside every event of `kind`, away from its edges (ramps, bell tails)."""
    return [(e.start_s + margin_s, e.start_s + e.duration_s - 0.3) for e in result.plan.events if e.kind == kind and e.duration_s > margin_s + 1.0]


def cut(audio, sr, span):
    return audio[int(span[0] * sr) : int(span[1] * sr)]


def lufs(audio, sr):
    meter = LoudnessMeter(sr, 2)
    meter.add(audio)
    return meter.integrated_lufs()


def assert_measured_and_honest(result, out, tmp_path, target_lufs=-16.0):
    """The voice within 1 LU of the target, the true peak at most -1 dBTP, and every figure the
    render reported within 0.3 of ffmpeg's ebur128 on the written file."""
    independent = ffmpeg_ebur128(out)
    voice = voice_ebur128(out, speech_spans_s(result.plan), tmp_path)
    assert voice == pytest.approx(target_lufs, abs=1.0)
    assert independent["true_peak_dbtp"] <= -1.0
    assert result.voice_lufs == pytest.approx(voice, abs=0.3)
    assert result.track_lufs == pytest.approx(independent["integrated_lufs"], abs=0.3)
    assert result.true_peak_dbtp == pytest.approx(independent["true_peak_dbtp"], abs=0.3)
    return independent


@pytest.mark.parametrize("background", BACKGROUND_PARAMS)
def test_every_background_keeps_the_voice_at_the_target(rendered, background, tmp_path):
    result, out = rendered(background)
    audio, sr = decode(out)
    assert audio.shape[0] == round(LENGTH_S * sr)
    independent = assert_measured_and_honest(result, out, tmp_path)
    # A sparse track is quieter than its voice: the whole track's loudness follows from the voice.
    assert independent["integrated_lufs"] < -16.5

    pauses = [cut(audio, sr, w) for w in windows(result, "pause", margin_s=5.0)]
    speech = [rms_dbfs(cut(audio, sr, (e.start_s, e.start_s + e.duration_s))) for e in result.plan.events if e.kind == "speech"]
    if background == "none":
        assert max(rms_dbfs(p) for p in pauses) < -60
    else:
        # The bed keeps its level relative to the voice (-22 dB by default), audible but soft.
        for pause in pauses:
            assert lufs(pause, sr) == pytest.approx(-16.0 - 22.0, abs=1.5)
        assert min(speech) - max(rms_dbfs(p) for p in pauses) >= 10


def test_bells_sit_4_db_under_the_voice(rendered):
    result, out = rendered("none")
    audio, sr = decode(out)
    bells = [e for e in result.plan.events if e.kind == "bell"]
    assert len(bells) == 2
    for bell in bells:
        assert lufs(cut(audio, sr, (bell.start_s, bell.start_s + bell.duration_s)), sr) == pytest.approx(-20.0, abs=1.0)


@pytest.mark.parametrize("target_lufs, background", [(-23.0, "pink-noise"), (-14.0, "brown-noise")])
def test_loudness_target_is_the_voice(rendered, target_lufs, background, tmp_path):
    result, out = rendered(background, loudness_lufs=target_lufs)
    independent = assert_measured_and_honest(result, out, tmp_path, target_lufs)
    audio, sr = decode(out)
    pause = max(windows(result, "pause", margin_s=5.0), key=lambda w: w[1] - w[0])
    assert lufs(cut(audio, sr, pause), sr) == pytest.approx(target_lufs - 22.0, abs=1.5)
    assert independent["integrated_lufs"] < target_lufs


def test_summary_line_prints_what_was_measured(script_file, tmp_path, shared_engine_cache):
    out = tmp_path / "quiet-sit.mp3"
    res = CliRunner().invoke(
        cli, ["render", str(script_file), "-o", str(out), "--length", "80s", "--background", "drone", "--cache-dir", str(shared_engine_cache)]
    )
    assert res.exit_code == 0, res.output
    line = res.stdout.splitlines()[0]
    match = re.fullmatch(
        rf"{re.escape(str(out))}  1m20s  voice (-?\d+\.\d) LUFS  track (-?\d+\.\d) LUFS  peak (-?\d+\.\d) dBTP  "
        r"\((?:\d+ sentences? synthesised|speech from cache)\)",
        line,
    )
    assert match, line
    voice, track, peak = (float(x) for x in match.groups())
    plan = json.loads(CliRunner().invoke(cli, ["plan", str(script_file), "--length", "80s", "--json", "--cache-dir", str(shared_engine_cache)]).stdout)
    independent = ffmpeg_ebur128(out)
    assert voice == pytest.approx(voice_ebur128(out, speech_spans_s(plan), tmp_path), abs=0.3)
    assert voice == pytest.approx(-16.0, abs=0.5)
    assert track == pytest.approx(independent["integrated_lufs"], abs=0.3)
    assert peak == pytest.approx(independent["true_peak_dbtp"], abs=0.3) and independent["true_peak_dbtp"] <= -1.0


def test_a_track_with_no_voice_puts_its_bells_4_db_under_the_target(tmp_path, shared_engine_cache):
    script = tmp_path / "sit.yaml"
    script.write_text("title: Silent sit\nbells: {start: true, end: true}\nsections:\n  - text: '[pause 20s] [bell] [pause 10s]'\n")
    out = tmp_path / "sit.mp3"
    result = render(RenderRequest(script, out, settings=TrackSettings(loudness_lufs=-18.0)), cache_dir=shared_engine_cache)
    assert result.voice_lufs is None
    audio, sr = decode(out)
    for bell in (e for e in result.plan.events if e.kind == "bell"):
        assert lufs(cut(audio, sr, (bell.start_s, bell.start_s + bell.duration_s)), sr) == pytest.approx(-22.0, abs=1.0)
    independent = ffmpeg_ebur128(out)
    assert result.track_lufs == pytest.approx(independent["integrated_lufs"], abs=0.3)
    assert independent["true_peak_dbtp"] <= -1.0


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
    tail = levels[levels.index(peak) :]
    assert all(b <= a + 1.0 for a, b in itertools.pairwise(tail))  # decays, without swelling back
    assert levels[-1] < peak - 25


def test_bells_flag_and_plan_show_bell_events(script_file, shared_engine_cache):
    with_bells = plan_script(RenderRequest(script_file, settings=TrackSettings(length_s=80.0, bells_start=True, bells_end=True)), cache_dir=shared_engine_cache)
    kinds = [e.kind for e in with_bells.events]
    assert kinds[0] == "bell" and kinds[-1] == "bell"
    assert with_bells.events[-1].duration_s == pytest.approx(7.0)
    without = plan_script(RenderRequest(script_file, settings=TrackSettings(length_s=80.0, bells_start=False, bells_end=False)), cache_dir=shared_engine_cache)
    assert "bell" not in [e.kind for e in without.events]


def test_tags_chapters_and_captions_of_a_real_render(script_file, tmp_path, shared_engine_cache):
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    out = tmp_path / "tagged.mp3"
    result = render(
        RenderRequest(script_file, out, settings=TrackSettings(length_s=80.0), captions=True, cover=cover, artist="Dr. Rivera", album="Week 1"),
        cache_dir=shared_engine_cache,
    )
    tags = mutagen.id3.ID3(out)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == "Quiet sit" and str(tags["TPE1"]) == "Dr. Rivera" and str(tags["TALB"]) == "Week 1"
    assert tags.getall("APIC")[0].data == cover.read_bytes()
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chapters] == ["Arriving", "Resting"]
    assert chapters[0].start_time == 0 and chapters[-1].end_time == 80000
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chapters]
    vtt = result.captions_path.read_text("utf-8")
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == len(result.plan.cues()) == 3
    assert "Let yourself settle, friend." in vtt


@pytest.mark.long
def test_an_hour_long_sparse_track(script_file, tmp_path, shared_engine_cache):
    out = tmp_path / "hour.mp3"
    result = render(RenderRequest(script_file, out, settings=TrackSettings(length_s=3600.0, background="brown-noise")), cache_dir=shared_engine_cache)
    assert_measured_and_honest(result, out, tmp_path)
