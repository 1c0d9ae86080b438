"""attune.delivery.publish: each client's page, feed and zip, from the manifest."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime

import feedparser

from attune.delivery.batch import format_summary
from helpers.batch import make_project, run


def test_guid_and_pub_date_are_stable_across_renders(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url="https://example.org/p/")
    first = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    run(roster, out, base_url="https://example.org/p/", force=True)
    second = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    assert [e.id for e in first.entries] == [e.id for e in second.entries] == ["attune:ana/01-loving-kindness.mp3", "attune:ana/02-evening-scan.mp3"]


def test_zip_contents(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    with zipfile.ZipFile(out / "ana.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "ana/01-loving-kindness.mp3",
            "ana/01-loving-kindness.vtt",
            "ana/02-evening-scan.mp3",
            "ana/02-evening-scan.vtt",
            "ana/index.html",
            "ana/cover.png",
        ]
        for name in archive.namelist():
            assert archive.read(name) == (out / name).read_bytes()
        assert archive.getinfo("ana/01-loving-kindness.mp3").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("ana/index.html").compress_type == zipfile.ZIP_DEFLATED


def test_every_feed_parses_with_exact_sizes_and_durations(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out, base_url="https://example.org/private/p q")
    assert "file://" not in format_summary(report)
    manifest = {t["files"]["mp3"]["path"]: t for t in json.loads(report.manifest_path.read_text())["tracks"]}
    feeds = sorted(out.glob("*/feed.xml"))
    assert len(feeds) == 3
    for feed_path in feeds:
        slug = feed_path.parent.name
        parsed = feedparser.parse(feed_path.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.itunes_block == 1
        assert parsed.feed.author == "Dr. Rivera & <Partners>"
        assert parsed.feed.link == f"https://example.org/private/p%20q/{slug}/index.html"
        assert parsed.feed.image.href == f"https://example.org/private/p%20q/{slug}/cover.png"
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [f"https://example.org/private/p%20q/{slug}/feed.xml"]
        assert b"<script>" not in feed_path.read_bytes()
        for entry in parsed.entries:
            (enclosure,) = entry.enclosures
            prefix = "https://example.org/private/p%20q/"
            assert enclosure.href.startswith(prefix) and enclosure.type == "audio/mpeg"
            relative = enclosure.href[len(prefix) :]
            track = manifest[relative]
            assert int(enclosure.length) == (out / relative).stat().st_size
            seconds = round(track["files"]["mp3"]["duration_s"])
            assert entry.itunes_duration == f"00:00:{seconds:02d}"
            assert entry.id == f"attune:{relative}" and entry.guidislink is False
            assert entry.podcast_transcript["url"] == prefix + relative.replace(".mp3", ".vtt")
            assert entry.published_parsed[:6] == datetime.fromisoformat(track["rendered_at"]).utctimetuple()[:6]
    client = feedparser.parse((out / "script-alert-1-script" / "feed.xml").read_bytes())
    assert client.feed.title == "Weekly practice · <script>alert(1)</script>"


def test_feeds_without_base_url_use_file_urls(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out)
    parsed = feedparser.parse((out / "ana" / "feed.xml").read_bytes())
    href = parsed.entries[0].enclosures[0].href
    assert href == (out.resolve() / "ana" / "01-loving-kindness.mp3").as_uri()
    assert "note: the feeds link to file:// paths" in format_summary(report)


def test_pages_list_one_audio_per_existing_track(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    ana = (out / "ana" / "index.html").read_text()
    assert ana.count("<audio ") == 2 and 'src="01-loving-kindness.mp3"' in ana and 'src="02-evening-scan.mp3"' in ana
    assert "Evening &lt;scan&gt;" in ana and "Dr. Rivera &amp; &lt;Partners&gt;" in ana
    assert str(out) not in ana and str(tmp_path) not in ana
    hostile = (out / "script-alert-1-script" / "index.html").read_text()
    assert hostile.count("<audio ") == 1 and "<script>" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
