"""What podcast apps show from a real batch: every feed read by gPodder's parser (podcastparser) and by
feedparser, every file measured by ffmpeg, the artwork measured by Pillow.

One batch with the real engine for the module (a three-track course for Ana, one track in three
formats for Bo), short scripts with the drone bed under the speech.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import feedparser
import mutagen
import podcastparser
import pytest
from PIL import Image

from attune.delivery.batch import BatchOptions, run_batch
from attune.delivery.feed import PODCAST_NS, PSC_NS
from attune.system.ffmpeg import ffmpeg_exe
from helpers.audio import ffmpeg_ebur128
from helpers.batch import SHORT_SCRIPT, public

pytestmark = pytest.mark.engine

BASE = "https://example.org/p/"
ROSTER = """\
practitioner: Dr. Rivera
title: Calm in three weeks
defaults: {length: 20s, background: drone}
clients:
  - name: Ana
    tracks:
      - script: short.yaml
        title: Week one
      - script: short.yaml
        title: Week two
      - script: short.yaml
        title: Week three
  - name: Bo
    tracks:
      - script: short.yaml
        formats: [mp3, m4a, opus]
"""


@pytest.fixture(scope="module")
def delivered(tmp_path_factory, shared_engine_cache):
    folder = tmp_path_factory.mktemp("podcast")
    (folder / "short.yaml").write_text(SHORT_SCRIPT)
    (folder / "roster.yaml").write_text(ROSTER)
    out = folder / "deliver"
    report = run_batch(folder / "roster.yaml", out, BatchOptions(jobs=2, base_url=BASE, cache_dir=shared_engine_cache))
    assert not report.failures, report.failures
    return out


def feeds(out: Path) -> dict[str, tuple[bytes, dict, feedparser.FeedParserDict]]:
    result = {}
    for name in ("Ana", "Bo"):
        raw = (public(out, name) / "feed.xml").read_bytes()
        result[name] = (raw, podcastparser.parse(BASE + "feed.xml", io.BytesIO(raw)), feedparser.parse(raw))
    return result


def test_gpodder_sees_chapters_transcripts_artwork_and_the_lock(delivered):
    for raw, gpodder, parsed in feeds(delivered).values():
        assert not parsed.bozo, parsed.bozo_exception
        assert f'xmlns:podcast="{PODCAST_NS}"'.encode() in raw and f'xmlns:psc="{PSC_NS}"'.encode() in raw
        assert gpodder["cover_url"].startswith(BASE) and gpodder["cover_url"].endswith("/cover.png")
        assert gpodder["import_prohibited"] is True  # podcast:locked, read by gPodder
        assert gpodder["itunes_categories"] == [["Health & Fitness", "Mental Health"]]
        assert parsed.feed.image.href == gpodder["cover_url"]
        for episode in gpodder["episodes"]:
            assert [c["title"] for c in episode["chapters"]] == ["Arriving", "Closing"]
            assert episode["chapters"][0]["start"] == 0 and 0 < episode["chapters"][1]["start"] < 20
            assert episode["transcript_url"].endswith(".vtt") and episode["chapters_json_url"].endswith(".chapters.json")
            assert episode["description"] == f"{episode['title']}: a guided practice (20 sec) from Dr. Rivera. In 2 parts: Arriving, Closing."
            assert episode["total_time"] == 20
        for entry in parsed.entries:
            assert entry.summary and entry.podcast_transcript["url"].endswith(".vtt")
            assert [c["title"] for c in entry.psc_chapters["chapters"]] == ["Arriving", "Closing"]


def test_the_course_comes_in_roster_order_and_the_single_track_is_episodic(delivered):
    found = feeds(delivered)
    _, gpodder, parsed = found["Ana"]
    assert gpodder["type"] == "serial" and parsed.feed.itunes_type == "serial"
    by_date = sorted(gpodder["episodes"], key=lambda e: e["published"])
    assert [e["title"] for e in by_date] == ["Week one", "Week two", "Week three"]
    assert [e["number"] for e in by_date] == [1, 2, 3]
    assert len({e["published"] for e in by_date}) == 3
    assert [int(e.itunes_episode) for e in sorted(parsed.entries, key=lambda e: e.published_parsed)] == [1, 2, 3]
    _, bo, bo_parsed = found["Bo"]
    assert bo["type"] == "episodic" and bo_parsed.feed.itunes_type == "episodic"


def test_artwork_is_square_and_embedded_in_every_format(delivered, shared_engine_cache):
    for name in ("Ana", "Bo"):
        cover = public(delivered, name) / "cover.png"
        with Image.open(cover) as image:
            assert image.size == (3000, 3000)
        assert cover.stat().st_size < 512 * 1024
    bo = public(delivered, "Bo")
    cover_bytes = (bo / "cover.png").read_bytes()
    for audio in sorted(bo.glob("01-*.*")):
        if audio.suffix == ".mp3":
            assert mutagen.File(audio).tags.getall("APIC")[0].data == cover_bytes
        elif audio.suffix == ".m4a":
            assert bytes(mutagen.File(audio).tags["covr"][0]) == cover_bytes
        elif audio.suffix == ".opus":
            assert mutagen.File(audio).tags["metadata_block_picture"]


def test_every_enclosure_has_the_type_apps_expect(delivered):
    raw, gpodder, parsed = feeds(delivered)["Bo"]
    (entry,) = parsed.entries
    assert entry.enclosures[0].type == "audio/mpeg"
    text = raw.decode()
    assert 'type="audio/x-m4a"' in text and 'type="audio/opus"' in text
    assert [e["mime_type"] for e in gpodder["episodes"][0]["enclosures"]] == ["audio/mpeg"]


def bitrate_kbps(path: Path) -> float:
    """The audio stream's bitrate from ffmpeg's reading of the file: its packets' bytes over its duration."""
    probe = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "framecrc", "-"],
                           capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip
    packets = [line.split(",") for line in probe.splitlines() if line and not line.startswith("#")]
    total_bytes = sum(int(p[4]) for p in packets)
    stamp = subprocess.run([ffmpeg_exe(), "-i", str(path)], capture_output=True, text=True, timeout=60).stderr.split("Duration: ")[1].split(",")[0]
    hours, minutes, seconds = stamp.split(":")
    return total_bytes * 8 / (int(hours) * 3600 + int(minutes) * 60 + float(seconds)) / 1000


def test_every_lossy_format_is_at_the_bitrate_asked(delivered):
    bo = public(delivered, "Bo")
    for suffix, asked_kbps in ((".mp3", 128), (".m4a", 128), (".opus", 64)):
        measured = bitrate_kbps(next(bo.glob(f"01-*{suffix}")))
        assert measured == pytest.approx(asked_kbps, rel=0.10), f"{suffix}: {measured:.1f} kbit/s for {asked_kbps}k"


def test_the_manifest_and_the_page_carry_each_files_own_figures(delivered):
    manifest = json.loads((delivered / "manifest.json").read_text("utf-8"))
    bo = next(t for t in manifest["tracks"] if t["client"] == "Bo")
    assert list(bo["files"]) == ["mp3", "m4a", "opus", "vtt"]
    page = (public(delivered, "Bo") / "index.html").read_text("utf-8")
    for kind in ("mp3", "m4a", "opus"):
        file = bo["files"][kind]
        independent = ffmpeg_ebur128(delivered / file["path"])
        assert file["track_lufs"] == pytest.approx(independent["integrated_lufs"], abs=0.1), kind
        assert file["true_peak_dbtp"] == pytest.approx(independent["true_peak_dbtp"], abs=0.1), kind
        assert file["duration_s"] == pytest.approx(20.0, abs=0.001)
        assert file["bitrate_kbps"] == pytest.approx(bitrate_kbps(delivered / file["path"]), abs=0.1), kind
        assert f"<td>{file['bitrate_kbps']:.0f} kbit/s</td>" in page
        assert f"<th scope=\"row\">{kind.upper()}</th>" in page and f"{file['track_lufs']:.1f} LUFS" in page and f"{file['true_peak_dbtp']:.1f} dBTP" in page
