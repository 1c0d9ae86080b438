"""A private podcast feed per client: RSS 2.0 with the itunes, podcast and Podlove Simple Chapters namespaces.

Built with ElementTree, which escapes every text and attribute; characters that XML 1.0 cannot
carry at all (NUL, most control characters) are removed first. The feed carries
`itunes:block Yes` so that directories never list it, and no build date, so that an unchanged
batch writes an identical feed.

Namespaces are declared by the URIs the clients match (read in their source): the Podcasting 2.0
namespace by its first URI, which podcastparser 0.6 (gPodder) knows and the namespace's own document
says every client must treat as identical to `https://podcastindex.org/namespace/1.0`; feedparser
reads its elements by prefix either way. Chapters go inline as Podlove Simple Chapters too
(`psc:chapters`, which podcastparser and feedparser read), beside the `podcast:chapters` JSON file.
The channel carries what Apple's RSS requirements list (title, description, language,
`itunes:image`, `itunes:category`, `itunes:explicit`) and `itunes:type` (serial for a course).
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from ..errors import SettingsError
from ..system.atomic import write_bytes

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
#: The Podcasting 2.0 namespace by its first URI: podcastparser matches only this one, and the
#: namespace's document requires clients that know the newer https://podcastindex.org/namespace/1.0
#: to recognise it as identical.
PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: Podlove Simple Chapters (http://podlove.org/simple-chapters), as podcastparser and feedparser match it.
PSC_NS = "http://podlove.org/simple-chapters"

ET.register_namespace("itunes", ITUNES_NS)
ET.register_namespace("podcast", PODCAST_NS)
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("psc", PSC_NS)

#: The enclosure type of each format, as podcast apps expect it: Apple's list for MP3 and AAC
#: (`audio/mpeg`, `audio/x-m4a`; an .m4b is the same AAC in MP4), the Podcasting 2.0
#: alternateEnclosure examples for Opus (`audio/opus`), and the registered types for FLAC and WAV.
ENCLOSURE_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/x-m4a", "m4b": "audio/x-m4a", "opus": "audio/opus", "flac": "audio/flac", "wav": "audio/wav"}
#: Apple's category for a practice feed (Health & Fitness › Mental Health), unless the roster names one.
DEFAULT_CATEGORY = ("Health & Fitness", "Mental Health")

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedChannel:
    """The podcast as a whole: one client's private feed."""

    title: str
    link: str
    description: str
    language: str
    author: str
    image_url: str | None = None
    #: The feed's own URL (atom:link rel=self), when it is published.
    self_url: str | None = None
    #: The practitioner's email: the feed's owner (itunes:owner, podcast:locked owner=…).
    owner_email: str | None = None
    #: Apple's category and subcategory (itunes:category).
    category: tuple[str, ...] = DEFAULT_CATEGORY
    #: A course, listened to in order (`itunes:type serial`), or episodes in any order (`episodic`).
    serial: bool = False


@dataclass(frozen=True)
class FeedItem:
    """One episode; `url` is absolute and `length_bytes` is the file's exact size."""

    title: str
    guid: str
    published: datetime
    url: str
    length_bytes: int
    duration_s: float
    number: int | None = None
    description: str | None = None
    transcript_url: str | None = None
    transcript_language: str | None = None
    #: A Podcasting 2.0 JSON chapters file (podcast:chapters).
    chapters_url: str | None = None
    #: The enclosure's MIME type, and the same episode in other formats (Podcasting 2.0
    #: `podcast:alternateEnclosure`).
    mime: str = "audio/mpeg"
    alternates: tuple[AlternateEnclosure, ...] = ()
    #: The sections, (title, start_s) each, inline as Podlove Simple Chapters (psc:chapters).
    chapters: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class AlternateEnclosure:
    """The episode in another format: its absolute URL, size, MIME type and a title for the app's menu."""

    url: str
    length_bytes: int
    mime: str
    title: str
    #: The audio's average bitrate in bit/s, measured from its packets.
    bitrate_bps: int | None = None


def npt_time(seconds: float) -> str:
    """A Podlove chapter start, `HH:MM:SS.mmm` (normal play time): 65.25 → `00:01:05.250`."""
    millis = round(max(0.0, seconds) * 1000)
    total, ms = divmod(millis, 1000)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"


def itunes_duration(seconds: float) -> str:
    """`HH:MM:SS`, rounded to the second: 905.4 → `00:15:05`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


#: The namespace of episode guids (uuid5), so that they never change once published.
_GUID_NAMESPACE = uuid.UUID("6f2ab0a4-5a0b-4c76-9d6e-7c1d0a3b5e21")


def guid_for(client_id: str, track: str) -> str:
    """A guid that stays the same when a track is rendered again, or the client's link is rotated:
    from the client's private id and the track's place, never from a name."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{client_id}/{track}"))


def check_base_url(base_url: str) -> str:
    """`base_url` with its path URL-quoted and one trailing slash; SettingsError unless it is http(s)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"--base-url {base_url!r} is not an http(s) address", "write it like https://example.com/practice/")
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~")
    return urlunsplit(parts._replace(path=path.rstrip("/") + "/"))


def file_url(relative_path: str, *, base_url: str | None, root: Path) -> str:
    """The absolute URL of a file at `relative_path` under `root`: below `base_url`, else `file://`."""
    if base_url is not None:
        return check_base_url(base_url) + quote(relative_path, safe="/")
    return (Path(root).resolve() / relative_path).as_uri()


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", str(text))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: _clean(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def feed_xml(channel: FeedChannel, items: Sequence[FeedItem]) -> bytes:
    """The feed document, UTF-8 with an XML declaration."""
    it, pc = f"{{{ITUNES_NS}}}", f"{{{PODCAST_NS}}}"
    rss = ET.Element("rss", {"version": "2.0"})
    ch = _sub(rss, "channel")
    _sub(ch, "title", channel.title)
    _sub(ch, "link", channel.link)
    _sub(ch, "description", channel.description)
    _sub(ch, "language", channel.language)
    if channel.self_url:
        _sub(ch, f"{{{ATOM_NS}}}link", href=channel.self_url, rel="self", type="application/rss+xml")
    _sub(ch, it + "author", channel.author)
    if channel.owner_email:
        owner = _sub(ch, it + "owner")
        _sub(owner, it + "name", channel.author)
        _sub(owner, it + "email", channel.owner_email)
    _sub(ch, it + "summary", channel.description)
    if channel.image_url:
        _sub(ch, it + "image", href=channel.image_url)
        image = _sub(ch, "image")
        _sub(image, "url", channel.image_url)
        _sub(image, "title", channel.title)
        _sub(image, "link", channel.link)
    if channel.category:
        category = ch
        for name in channel.category:  # the attribute is named `text`: set it as one, not as the element's text
            category = _sub(category, it + "category")
            category.set("text", _clean(name))
    # Private: no directory may list it, and no app may import it elsewhere.
    _sub(ch, it + "block", "Yes")
    _sub(ch, pc + "block", "yes")
    if channel.owner_email:
        _sub(ch, pc + "locked", "yes", owner=channel.owner_email)
    else:
        _sub(ch, pc + "locked", "yes")
    _sub(ch, it + "explicit", "false")
    _sub(ch, it + "type", "serial" if channel.serial else "episodic")
    for item in items:
        el = _sub(ch, "item")
        _sub(el, "title", item.title)
        if item.description:
            _sub(el, "description", item.description)
        _sub(el, "guid", item.guid, isPermaLink="false")
        published = item.published if item.published.tzinfo else item.published.replace(tzinfo=UTC)
        _sub(el, "pubDate", format_datetime(published.astimezone(UTC), usegmt=True))
        _sub(el, "enclosure", url=item.url, length=str(int(item.length_bytes)), type=item.mime)
        for alternate in item.alternates:
            attributes = {"type": alternate.mime, "length": str(int(alternate.length_bytes)), "title": alternate.title}
            if alternate.bitrate_bps:
                attributes["bitrate"] = str(int(alternate.bitrate_bps))
            alt = _sub(el, pc + "alternateEnclosure", **attributes)
            _sub(alt, pc + "source", uri=alternate.url)
        _sub(el, it + "duration", itunes_duration(item.duration_s))
        if item.number is not None:
            _sub(el, it + "episode", str(item.number))
            _sub(el, it + "episodeType", "full")
        _sub(el, it + "explicit", "false")
        if item.transcript_url:
            attributes = {"url": item.transcript_url, "type": "text/vtt", "rel": "captions"}
            if item.transcript_language:
                attributes["language"] = item.transcript_language
            _sub(el, pc + "transcript", **attributes)
        if item.chapters_url:
            _sub(el, pc + "chapters", url=item.chapters_url, type="application/json+chapters")
        if item.chapters:
            psc = _sub(el, f"{{{PSC_NS}}}chapters", version="1.2")
            for title, start_s in item.chapters:
                _sub(psc, f"{{{PSC_NS}}}chapter", start=npt_time(start_s), title=title)
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def write_feed(path: Path, channel: FeedChannel, items: Sequence[FeedItem]) -> None:
    """Write the feed to `path` atomically."""
    write_bytes(Path(path), feed_xml(channel, items))


def chapters_json(chapters: Sequence[tuple[str, float]]) -> bytes:
    """A Podcasting 2.0 JSON chapters file: (title, start_s) per chapter."""
    data = {"version": "1.2.0", "chapters": [{"startTime": round(start_s, 3), "title": title} for title, start_s in chapters]}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
