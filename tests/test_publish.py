"""attune.delivery.publish: each client's folder behind their token: page, feed, zip, chapters, robots."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta

import feedparser

from attune.delivery.batch import format_summary
from helpers.batch import access_of, make_project, public, run

BASE = "https://example.org/private/p q/"
QUOTED = "https://example.org/private/p%20q/"


def test_every_feed_parses_and_points_under_its_token(tmp_path):
    roster = make_project(tmp_path)
    (roster.parent / "roster.yaml").write_text(roster.read_text().replace("cover: cover.png\n", "cover: cover.png\ncontact: rivera@example.org\n"))
    out = tmp_path / "out"
    report = run(roster, out, base_url=BASE)
    assert "file://" not in format_summary(report)
    manifest = {t["track"] + t["client"]: t for t in json.loads(report.manifest_path.read_text())["tracks"]}
    for name, entry in access_of(out).items():
        prefix = f"{QUOTED}{entry['token']}/"
        feed_path = out / "public" / entry["token"] / "feed.xml"
        raw = feed_path.read_bytes()
        parsed = feedparser.parse(raw)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.itunes_block == 1 and b"<podcast:block>yes</podcast:block>" in raw
        assert b'<podcast:locked owner="rivera@example.org">yes</podcast:locked>' in raw
        assert parsed.feed.author_detail.email == "rivera@example.org" or b"<itunes:email>rivera@example.org</itunes:email>" in raw
        assert parsed.feed.link == prefix + "index.html"
        assert parsed.feed.image.href == prefix + "cover.png"
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [prefix + "feed.xml"]
        assert parsed.feed.title == f"Weekly practice · {name}"  # the name is inside the client's own feed only
        assert b"<script>" not in raw
        for entry in parsed.entries:
            (enclosure,) = entry.enclosures
            assert enclosure.href.startswith(prefix) and enclosure.type == "audio/mpeg"
            local = out / "public" / entry_token(entry.enclosures[0].href, QUOTED)
            assert int(enclosure.length) == local.stat().st_size
            track = manifest[local.stem + name]
            assert entry.itunes_duration == f"00:00:{round(track['files']['mp3']['duration_s']):02d}"
            assert entry.guidislink is False and name.lower() not in entry.id.lower() and len(entry.id) == 36  # a uuid
            assert entry.podcast_transcript["url"] == prefix + local.stem + ".vtt"
            # Dated from the day the client was added, a minute apart in roster order: not when it rendered.
            created = datetime.fromisoformat(access_of(out)[name]["created"])
            assert entry.published_parsed[:6] == (created + timedelta(minutes=track["number"] - 1)).utctimetuple()[:6]


def entry_token(href: str, prefix: str) -> str:
    return href[len(prefix) :]


def test_guids_and_dates_are_stable_across_renders_and_base_urls(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out, base_url="https://example.org/p/")
    first = feedparser.parse((public(out, "Ana") / "feed.xml").read_bytes())
    run(roster, out, base_url="https://cdn.example.net/", force=True)
    second = feedparser.parse((public(out, "Ana") / "feed.xml").read_bytes())
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert [e.published for e in first.entries] == [e.published for e in second.entries]  # rendered again, dated the same
    assert second.feed.link.startswith("https://cdn.example.net/" + access_of(out)["Ana"]["token"] + "/")


def test_zip_holds_every_file_and_a_page(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    run(roster, out)
    folder = public(out, "Ana")
    with zipfile.ZipFile(folder / "practice.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "practice/index.html", "practice/01-loving-kindness.chapters.json", "practice/01-loving-kindness.mp3", "practice/01-loving-kindness.vtt",
            "practice/02-evening-scan.chapters.json", "practice/02-evening-scan.mp3", "practice/02-evening-scan.vtt", "practice/cover.png",
        ]  # fmt: skip
        for name in archive.namelist()[1:]:
            assert archive.read(name) == (folder / name.split("/", 1)[1]).read_bytes()
        assert archive.getinfo("practice/01-loving-kindness.mp3").compress_type == zipfile.ZIP_STORED
        page = archive.read("practice/index.html").decode()
        assert "practice.zip" not in page and 'src="01-loving-kindness.mp3"' in page
    assert 'href="practice.zip" download' in (folder / "index.html").read_text()


def test_without_a_base_url_feeds_use_file_urls_and_pages_have_no_subscribe_buttons(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    report = run(roster, out)
    folder = public(out, "Ana")
    href = feedparser.parse((folder / "feed.xml").read_bytes()).entries[0].enclosures[0].href
    assert href == (folder.resolve() / "01-loving-kindness.mp3").as_uri()
    assert "note: without --base-url the links are paths" in format_summary(report)
    assert 'id="subscribe"' not in (folder / "index.html").read_text()


def test_pages_list_tracks_and_subscribe_with_the_feed_url(tmp_path):
    roster = make_project(tmp_path)
    text = roster.read_text().replace("title: Weekly practice\n", "title: Weekly practice\ncontact: rivera@example.org\nmessage: Welcome, all.\n")
    roster.write_text(text.replace("  - name: Ana\n", "  - name: Ana\n    message: 'Hello Ana, <b>welcome</b>.'\n"))
    out = tmp_path / "out"
    run(roster, out, base_url="https://example.org/p/")
    token = access_of(out)["Ana"]["token"]
    feed = f"https://example.org/p/{token}/feed.xml"
    ana = (public(out, "Ana") / "index.html").read_text()
    assert ana.count("<audio ") == 2 and 'src="01-loving-kindness.mp3"' in ana and 'src="02-evening-scan.mp3"' in ana
    assert "Evening &lt;scan&gt;" in ana and "Dr. Rivera &amp; &lt;Partners&gt;" in ana
    assert str(out) not in ana and str(tmp_path) not in ana
    assert f'href="podcast://example.org/p/{token}/feed.xml"' in ana
    assert f'href="overcast://x-callback-url/add?url=https%3A%2F%2Fexample.org%2Fp%2F{token}%2Ffeed.xml"' in ana
    assert f'href="pktc://subscribe/example.org/p/{token}/feed.xml"' in ana
    assert f'data-url="{feed}"' in ana and f'value="{feed}"' in ana
    assert "Hello Ana, &lt;b&gt;welcome&lt;/b&gt;." in ana and 'href="mailto:rivera@example.org"' in ana
    assert '<meta name="robots" content="noindex, nofollow">' in ana and '<meta name="referrer" content="no-referrer">' in ana
    x_page = (public(out, "../../x") / "index.html").read_text()
    assert "Welcome, all." in x_page  # the roster's message, for clients without their own
    hostile = (public(out, "<script>alert(1)</script>") / "index.html").read_text()
    assert hostile.count("<audio ") == 1 and "<script>alert" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile


def test_chapters_json_per_episode(tmp_path):
    from attune.delivery.feed import chapters_json

    data = json.loads(chapters_json([("Arriving", 0.0), ("Rest & <ease>", 61.25)]))
    assert data == {"version": "1.2.0", "chapters": [{"startTime": 0.0, "title": "Arriving"}, {"startTime": 61.25, "title": "Rest & <ease>"}]}
