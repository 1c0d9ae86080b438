"""Podcast feeds from attune.feed, read back the way podcast apps do (feedparser) and as plain XML."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from attune.delivery.feed import ITUNES_NS, PODCAST_NS, FeedChannel, FeedItem, check_base_url, feed_xml, file_url, guid_for, itunes_duration, write_feed
from attune.errors import SettingsError

HOSTILE = "<script>alert(1)</script> & \"quotes\" 'single' ]]> \x00\x0b\u2028"
CLEAN = "<script>alert(1)</script> & \"quotes\" 'single' ]]> \u2028"


def channel(**overrides) -> FeedChannel:
    fields = dict(
        title="Weekly practice · Ana",
        link="https://example.org/p/ana/index.html",
        description="Ten quiet minutes.",
        language="en",
        author="Dr. Rivera",
        image_url="https://example.org/p/ana/cover.png",
        self_url="https://example.org/p/ana/feed.xml",
    )
    fields.update(overrides)
    return FeedChannel(**fields)


def item(n: int = 1, **overrides) -> FeedItem:
    fields = dict(
        title=f"Track {n}",
        guid=guid_for("c0ffee", f"0{n}-track"),
        published=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
        url=f"https://example.org/p/ana/0{n}-track.mp3",
        length_bytes=123456 + n,
        duration_s=905.4,
        number=n,
        description="About it",
        transcript_url=f"https://example.org/p/ana/0{n}-track.vtt",
        transcript_language="en",
    )
    fields.update(overrides)
    return FeedItem(**fields)


def test_channel_and_items_parse():
    parsed = feedparser.parse(feed_xml(channel(), [item(1), item(2, duration_s=3725)]))
    assert not parsed.bozo
    feed = parsed.feed
    assert (feed.title, feed.link, feed.subtitle, feed.language, feed.author) == (
        "Weekly practice · Ana",
        "https://example.org/p/ana/index.html",
        "Ten quiet minutes.",
        "en",
        "Dr. Rivera",
    )
    assert feed.image.href == "https://example.org/p/ana/cover.png"
    assert feed.itunes_block == 1
    first, second = parsed.entries
    assert (first.title, first.id, first.guidislink) == ("Track 1", guid_for("c0ffee", "01-track"), False)
    assert uuid.UUID(first.id).version == 5  # from the client's private id and the track: stable, names nobody
    assert guid_for("c0ffee", "01-track") == guid_for("c0ffee", "01-track") != guid_for("c0ffef", "01-track")
    assert first.enclosures == [{"href": "https://example.org/p/ana/01-track.mp3", "length": "123457", "type": "audio/mpeg"}]
    assert first.itunes_duration == "00:15:05" and second.itunes_duration == "01:02:05"
    assert first.published == "Tue, 04 Mar 2025 05:06:07 GMT"
    assert first.podcast_transcript == {"url": "https://example.org/p/ana/01-track.vtt", "type": "text/vtt", "rel": "captions", "language": "en"}


def test_raw_xml_has_the_namespaced_elements():
    root = ET.fromstring(feed_xml(channel(), [item()]))
    ch = root.find("channel")
    assert root.get("version") == "2.0"
    assert ch.findtext(f"{{{ITUNES_NS}}}block") == "Yes"
    assert ch.findtext(f"{{{ITUNES_NS}}}explicit") == "false"
    assert ch.find(f"{{{ITUNES_NS}}}image").get("href") == "https://example.org/p/ana/cover.png"
    entry = ch.find("item")
    assert entry.find("guid").get("isPermaLink") == "false"
    assert entry.find(f"{{{PODCAST_NS}}}transcript").attrib == {
        "url": "https://example.org/p/ana/01-track.vtt",
        "type": "text/vtt",
        "rel": "captions",
        "language": "en",
    }


def test_optional_parts_are_left_out():
    xml = feed_xml(channel(image_url=None, self_url=None), [item(description=None, transcript_url=None, number=None)])
    assert b"itunes:image" not in xml and b"atom:link" not in xml and b"podcast:transcript" not in xml
    assert b"<description>About" not in xml and b"itunes:episode" not in xml
    assert not feedparser.parse(xml).bozo


def test_hostile_text_is_escaped_everywhere():
    xml = feed_xml(
        channel(title=HOSTILE, author=HOSTILE, description=HOSTILE, link="https://example.org/?a=1&b=<2>"),
        [item(title=HOSTILE, description=HOSTILE, url='https://example.org/a"b.mp3')],
    )
    assert b"<script>" not in xml and b"\x00" not in xml and b"\x0b" not in xml
    root = ET.fromstring(xml)  # well-formed despite everything
    ch = root.find("channel")
    assert ch.findtext("title") == CLEAN and ch.findtext(f"{{{ITUNES_NS}}}author") == CLEAN
    assert ch.findtext("link") == "https://example.org/?a=1&b=<2>"
    assert ch.find("item").findtext("title") == CLEAN
    assert ch.find("item").find("enclosure").get("url") == 'https://example.org/a"b.mp3'
    parsed = feedparser.parse(xml)
    assert not parsed.bozo and len(parsed.entries) == 1


def test_pub_date_is_rfc_2822_in_gmt():
    local = datetime(2025, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2025, 3, 4, 5, 6, 7)
    for published in (local, naive):
        parsed = feedparser.parse(feed_xml(channel(), [item(published=published)]))
        assert parsed.entries[0].published == "Tue, 04 Mar 2025 05:06:07 GMT"


@pytest.mark.parametrize("seconds, text", [(0, "00:00:00"), (59.5, "00:01:00"), (905.4, "00:15:05"), (36000, "10:00:00")])
def test_itunes_duration(seconds, text):
    assert itunes_duration(seconds) == text


def test_urls(tmp_path):
    assert file_url("ana/01 a.mp3", base_url="https://example.org/p", root=tmp_path) == "https://example.org/p/ana/01%20a.mp3"
    assert file_url("ana/x.mp3", base_url="https://example.org/p/", root=tmp_path) == "https://example.org/p/ana/x.mp3"
    local = file_url("ana/01 a.mp3", base_url=None, root=tmp_path)
    assert local == (tmp_path.resolve() / "ana" / "01 a.mp3").as_uri() and local.startswith("file:///") and "%20" in local
    assert check_base_url("http://h/x//") == "http://h/x/"
    assert check_base_url("https://h") == "https://h/"
    assert check_base_url("https://h/a b/%C3%A9/") == "https://h/a%20b/%C3%A9/"
    for bad in ("ftp://h/", "example.org", "https://", "https://h/?q=1", "https://h/#top", "javascript:alert(1)"):
        with pytest.raises(SettingsError) as err:
            check_base_url(bad)
        assert str(err.value) == f"--base-url {bad!r} is not an http(s) address — write it like https://example.com/practice/"


def test_write_feed_atomically(tmp_path):
    path = tmp_path / "feed.xml"
    write_feed(path, channel(), [item()])
    assert path.read_bytes() == feed_xml(channel(), [item()])
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]
    assert Path(path).read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
