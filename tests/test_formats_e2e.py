"""Every format end to end with the real engine: one render into MP3, M4A, M4B, Opus, FLAC and WAV,
each decoded and measured: length, voice loudness, true peak, chapters, tags and container."""

from __future__ import annotations

import base64
import json

import mutagen
import pytest
from click.testing import CliRunner

import attune.media.master
from attune.cli import cli
from attune.formats import FORMATS
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import decode, ffmpeg_chapters, ffmpeg_ebur128, speech_spans_s, voice_ebur128

pytestmark = pytest.mark.engine

SCRIPT = """\
title: Two rooms
author: Dr. Rivera
description: A short practice in two parts.
sections:
  - name: Arriving
    text: |
      Welcome. Let yourself arrive. [pause 5s..]
  - name: Resting
    text: |
      Rest here, just as you are. [pause 5s..] Thank you.
"""
ALL = ("mp3", "m4a", "m4b", "opus", "flac", "wav")
MAGIC = {"mp3": (0, b"ID3"), "m4a": (4, b"ftypM4A "), "m4b": (4, b"ftypM4B "), "opus": (0, b"OggS"), "flac": (0, b"fLaC"), "wav": (8, b"WAVE")}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, shared_engine_cache):
    folder = tmp_path_factory.mktemp("formats")
    script = folder / "two-rooms.yaml"
    script.write_text(SCRIPT)
    cover = folder / "cover.png"
    cover.write_bytes(PNG)
    windows = []
    real = attune.media.master.windows

    def counting(mixer):
        for window in real(mixer):
            windows.append(1)
            yield window

    mp = pytest.MonkeyPatch()
    mp.setattr(attune.media.master, "windows", counting)
    try:
        result = render(
            RenderRequest(script, folder / "out" / "two-rooms.mp3", TrackSettings(length_s=50.0, background="drone", formats=ALL), cover=cover, captions=True),
            cache_dir=shared_engine_cache,
        )
    finally:
        mp.undo()
    return result, folder, windows


def test_one_mixing_pass_feeds_every_encoder(rendered):
    result, _, windows = rendered
    blocks = -(-result.plan.n_frames // 65536)
    assert len(windows) == blocks  # not one pass per format
    assert [w.format for w in result.outputs] == list(ALL)
    assert {w.path.stem for w in result.outputs} == {"two-rooms"}


@pytest.mark.parametrize("fmt", ALL)
def test_each_format_decodes_to_the_plan_and_measures_as_reported(rendered, fmt, tmp_path):
    result, _, _ = rendered
    written = next(w for w in result.outputs if w.format == fmt)
    path = written.path
    offset, magic = MAGIC[fmt]
    assert path.suffix == f".{fmt}" and path.read_bytes()[offset : offset + len(magic)] == magic
    audio, rate = decode(path)
    assert rate == FORMATS[fmt].sample_rate
    assert abs(len(audio) / rate - 50.0) <= 0.001
    independent = ffmpeg_ebur128(path)
    voice = voice_ebur128(path, speech_spans_s(result.plan), tmp_path, audio=(audio, rate))
    assert voice == pytest.approx(-16.0, abs=1.0)
    assert independent["true_peak_dbtp"] <= -1.0
    assert written.voice_lufs == pytest.approx(voice, abs=0.3)
    assert written.track_lufs == pytest.approx(independent["integrated_lufs"], abs=0.3)
    assert written.true_peak_dbtp == pytest.approx(independent["true_peak_dbtp"], abs=0.3)


@pytest.mark.parametrize("fmt", [f for f in ALL if f != "wav"])
def test_chapters_are_the_sections_for_ffmpeg_and_mutagen(rendered, fmt):
    result, _, _ = rendered
    path = next(w.path for w in result.outputs if w.format == fmt)
    planned = result.plan.chapters()
    assert [name for name, _, _ in planned] == ["Arriving", "Resting"]
    read = ffmpeg_chapters(path)
    # ffmpeg reads ID3 chapter times shifted by the MP3 encoder delay (1105 samples, 25 ms).
    tolerance_s = 0.03 if fmt == "mp3" else 0.002
    assert [title for title, _, _ in read] == ["Arriving", "Resting"]
    for (_, start, _), (_, planned_start, _) in zip(read, planned):
        assert start == pytest.approx(planned_start, abs=tolerance_s)
    tags = mutagen.File(path)
    if fmt == "mp3":
        toc = tags.tags.getall("CTOC")[0]
        chaps = {c.element_id: c for c in tags.tags.getall("CHAP")}
        mine = [(str(chaps[i].sub_frames["TIT2"]), chaps[i].start_time / 1000) for i in toc.child_element_ids]
    elif fmt in ("m4a", "m4b"):
        mine = [(c.title, c.start) for c in tags.chapters]
    else:
        mine = [(tags[f"CHAPTER{n:03d}NAME"][0], _seconds(tags[f"CHAPTER{n:03d}"][0])) for n in (1, 2)]
    assert [title for title, _ in mine] == ["Arriving", "Resting"]
    for (_, start), (_, planned_start, _) in zip(mine, planned):
        assert start == pytest.approx(planned_start, abs=0.002)


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("fmt", [f for f in ALL if f != "wav"])
def test_title_artist_and_cover_tags(rendered, fmt):
    result, _, _ = rendered
    path = next(w.path for w in result.outputs if w.format == fmt)
    tags = mutagen.File(path)
    if fmt == "mp3":
        title, artist, cover = str(tags["TIT2"]), str(tags["TPE1"]), tags.tags.getall("APIC")[0].data
    elif fmt in ("m4a", "m4b"):
        title, artist, cover = tags["\xa9nam"][0], tags["\xa9ART"][0], bytes(tags["covr"][0])
        assert (tags.get("stik") == [2]) == (fmt == "m4b")
    else:
        title, artist = tags["title"][0], tags["artist"][0]
        if fmt == "flac":
            cover = tags.pictures[0].data
        else:
            cover = mutagen.flac.Picture(base64.b64decode(tags["metadata_block_picture"][0])).data
    assert (title, artist) == ("Two rooms", "Dr. Rivera")
    assert cover == PNG


def test_captions_share_the_stem(rendered):
    result, folder, _ = rendered
    assert result.captions_path == folder / "out" / "two-rooms.vtt"
    assert result.captions_path.read_text("utf-8").startswith("WEBVTT")


def test_split_sections_writes_a_file_per_section_and_a_playlist(tmp_path, shared_engine_cache):
    script = tmp_path / "course.yaml"
    script.write_text(SCRIPT)
    out = tmp_path / "course.m4b"
    res = CliRunner().invoke(cli, ["render", str(script), "-o", str(out), "--length", "50s", "--split", "sections", "--cache-dir", str(shared_engine_cache)])
    assert res.exit_code == 0, res.output
    plan = json.loads(CliRunner().invoke(cli, ["plan", str(script), "--length", "50s", "--json", "--cache-dir", str(shared_engine_cache)]).stdout)
    lessons = [tmp_path / "course-01-arriving.m4b", tmp_path / "course-02-resting.m4b"]
    assert (tmp_path / "course.m3u8").read_text("utf-8").splitlines()[0] == "#EXTM3U"
    assert [line for line in (tmp_path / "course.m3u8").read_text("utf-8").splitlines() if not line.startswith("#")] == [p.name for p in lessons]
    chapters = [(e["section"], e["start_s"]) for e in plan["events"]]
    starts = [min(s for name, s in chapters if name == section) for section in ("Arriving", "Resting")]
    lengths = [starts[1] - starts[0], 50.0 - starts[1]]
    for path, length, section in zip(lessons, lengths, ("Arriving", "Resting")):
        audio, rate = decode(path)
        assert abs(len(audio) / rate - length) <= 0.002
        assert mutagen.File(path)["\xa9nam"][0] == f"Two rooms: {section}"
        assert ffmpeg_ebur128(path)["true_peak_dbtp"] <= -1.0
    assert f"{lessons[0]}  " in res.stdout and f"{tmp_path / 'course.m3u8'}  playlist" in res.stdout


def test_a_suffix_that_contradicts_the_format_writes_nothing(tmp_path, shared_engine_cache):
    script = tmp_path / "s.yaml"
    script.write_text(SCRIPT)
    res = CliRunner().invoke(cli, ["render", str(script), "-o", str(tmp_path / "x.m4a"), "--format", "mp3", "--cache-dir", str(shared_engine_cache)])
    assert res.exit_code == 1
    assert res.stderr == f"Error: {tmp_path / 'x.m4a'}: the output x.m4a is m4a, but --format asks for mp3 — name the output x.mp3, or pass --format m4a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
