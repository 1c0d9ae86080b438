"""`attune batch` end to end with the real engine: real MP3s, feeds, pages, manifest, zips."""

from __future__ import annotations

import hashlib
import json
import zipfile

import feedparser
import mutagen.id3
import pytest
from click.testing import CliRunner

from attune.cli import cli
from helpers.audio import decode, ffmpeg_ebur128
from helpers.batch import SHORT_SCRIPT as SCRIPT
from helpers.batch import access_of, public

pytestmark = pytest.mark.engine


ROSTER = """\
practitioner: Dr. Rivera
title: Weekly practice
defaults: {length: 20s, background: drone}
clients:
  - name: Ana
    tracks:
      - script: short.yaml
      - script: short.yaml
        length: 25s
        voice: en-us+f3
        formats: [mp3, opus]
  - name: "../../<b>Bo</b>"
    tracks:
      - script: short.yaml
      - script: missing.yaml
"""


def test_batch_delivers_real_tracks(tmp_path, shared_engine_cache):
    (tmp_path / "short.yaml").write_text(SCRIPT)
    (tmp_path / "roster.yaml").write_text(ROSTER)
    out = tmp_path / "deliver"
    args = [
        "batch",
        str(tmp_path / "roster.yaml"),
        "-o",
        str(out),
        "--jobs",
        "2",
        "--base-url",
        "https://example.org/p/",
        "--cache-dir",
        str(shared_engine_cache),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # one track's script is missing
    assert "missing.yaml" in result.stdout and "3 rendered" in result.stdout and "1 failed" in result.stdout

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert len(manifest["tracks"]) == 3
    for track in manifest["tracks"]:
        for entry in track["files"].values():
            path = out / entry["path"]
            assert path.resolve().is_relative_to(out.resolve())
            data = path.read_bytes()
            assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        mp3 = out / track["files"]["mp3"]["path"]
        audio, sr = decode(mp3)
        assert abs(audio.shape[0] / sr - track["files"]["mp3"]["duration_s"]) < 0.05
        # The manifest records what the file measures, and ffmpeg agrees.
        independent = ffmpeg_ebur128(mp3)
        assert track["voice_lufs"] == pytest.approx(-16.0, abs=1.0)
        assert track["track_lufs"] == pytest.approx(independent["integrated_lufs"], abs=0.3)
        assert track["true_peak_dbtp"] == pytest.approx(independent["true_peak_dbtp"], abs=0.3)
        assert independent["true_peak_dbtp"] <= -1.0
        assert track["limiter_reduction_db"] >= 0.0
        tags = mutagen.id3.ID3(mp3)
        assert str(tags["TPE1"]) == "Dr. Rivera" and str(tags["TALB"]) == "Weekly practice"
        assert [str(c.sub_frames["TIT2"]) for c in sorted(tags.getall("CHAP"), key=lambda c: c.start_time)] == ["Arriving", "Closing"]
        assert (mp3.with_suffix(".vtt")).read_text("utf-8").startswith("WEBVTT")

    # Published: one folder per client, under its token; the recordings, page, feed and zip in it.
    assert sorted(p.name for p in out.iterdir()) == ["access.json", "links.csv", "manifest.json", "public", "tracks"]
    entries = access_of(out)
    for name in ("Ana", "../../<b>Bo</b>"):
        folder = public(out, name)
        feed = feedparser.parse((folder / "feed.xml").read_bytes())
        assert not feed.bozo
        for entry in feed.entries:
            enclosure = entry.enclosures[0]
            assert enclosure.href.startswith(f"https://example.org/p/{entries[name]['token']}/")
            assert int(enclosure.length) == (folder / enclosure.href.rsplit("/", 1)[-1]).stat().st_size
            # Sections as Podcasting 2.0 chapters.
            chapters = json.loads((folder / entry.podcast_chapters["url"].rsplit("/", 1)[-1]).read_text())
            assert [c["title"] for c in chapters["chapters"]] == ["Arriving", "Closing"] and chapters["chapters"][0]["startTime"] == 0.0
        page = (folder / "index.html").read_text("utf-8")
        assert "<b>Bo</b>" not in page
        with zipfile.ZipFile(folder / "practice.zip") as archive:
            assert any(name.endswith(".mp3") for name in archive.namelist())
    ana = feedparser.parse((public(out, "Ana") / "feed.xml").read_bytes())
    assert [e.itunes_duration for e in ana.entries] == ["00:00:20", "00:00:25"]

    # A track in two formats: both in the manifest, on the page, in the feed and in the zip.
    second = next(t for t in manifest["tracks"] if t["track"] == "02-short")
    assert list(second["files"]) == ["mp3", "opus", "vtt"]
    opus = out / second["files"]["opus"]["path"]
    audio, sr = decode(opus)
    assert sr == 48000 and abs(audio.shape[0] / sr - 25.0) <= 0.001
    assert ffmpeg_ebur128(opus)["true_peak_dbtp"] <= -1.0
    page = (public(out, "Ana") / "index.html").read_text("utf-8")
    assert '<source src="02-short.opus" type="audio/ogg">' in page and ">Download OPUS</a>" in page and ">Download MP3</a>" in page
    token = entries["Ana"]["token"]
    feed_xml = (public(out, "Ana") / "feed.xml").read_text("utf-8")
    assert (
        f'<podcast:alternateEnclosure type="audio/opus" length="{opus.stat().st_size}" title="OPUS" bitrate="{round(second["files"]["opus"]["bitrate_kbps"] * 1000)}">'
        f'<podcast:source uri="https://example.org/p/{token}/02-short.opus" /></podcast:alternateEnclosure>'
    ) in " ".join(feed_xml.split()).replace("> <", "><")
    with zipfile.ZipFile(public(out, "Ana") / "practice.zip") as archive:
        assert "practice/02-short.opus" in archive.namelist()

    again = CliRunner().invoke(cli, args)
    assert "3 unchanged" in again.stdout
