"""The listening page: one self-contained `index.html` per client, next to their recordings.

Rendered from `templates/index.html.j2` with autoescaping on, so every name, title and line of
transcript is escaped. The page loads nothing from elsewhere (inline CSS, no scripts, no fonts)
and links its files by relative URL, so it works opened from disk, from a zip or from a server. Its one
inline script copies the feed link.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2

from ..system.atomic import write_text

TEMPLATE_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class PageFile:
    """One audio file of a track and what it measures (each file measured on its own, decoded); None: not measured."""

    name: str
    format: str
    size_bytes: int
    duration_s: float | None = None
    track_lufs: float | None = None
    true_peak_dbtp: float | None = None
    #: The audio stream's bitrate, measured from its packets (without the tags and the cover).
    bitrate_kbps: float | None = None

    @property
    def size_text(self) -> str:
        mib = self.size_bytes / (1024 * 1024)
        return f"{mib:.1f} MB" if mib >= 0.95 else f"{max(1, round(self.size_bytes / 1024))} KB"

    @property
    def bitrate_text(self) -> str:
        return f"{self.bitrate_kbps:.0f} kbit/s" if self.bitrate_kbps is not None else "—"

    @property
    def length_text(self) -> str:
        if self.duration_s is None:
            return "—"
        minutes, seconds = divmod(round(self.duration_s), 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def loudness_text(self) -> str:
        return f"{self.track_lufs:.1f} LUFS" if self.track_lufs is not None else "—"

    @property
    def peak_text(self) -> str:
        return f"{self.true_peak_dbtp:.1f} dBTP" if self.true_peak_dbtp is not None else "—"


@dataclass(frozen=True)
class PageTrack:
    """One recording on the page; file names are relative to the page's folder."""

    number: int
    title: str
    duration_s: float
    mp3_name: str
    vtt_name: str | None = None
    description: str | None = None
    #: The spoken text: sentences separated by spaces, sections by blank lines.
    transcript: str = ""
    #: Every audio file of the track, the main one first: (file name, format name, MIME type).
    audio_files: tuple[tuple[str, str, str], ...] = ()
    #: Every audio file with its size and measured figures, for the table under the player.
    files: tuple[PageFile, ...] = ()

    @property
    def audio(self) -> tuple[tuple[str, str, str], ...]:
        """The audio files to offer: `audio_files`, or the one `mp3_name`."""
        return self.audio_files or ((self.mp3_name, "mp3", "audio/mpeg"),)

    @property
    def duration_text(self) -> str:
        return listening_time(self.duration_s)

    @property
    def paragraphs(self) -> list[str]:
        return [" ".join(part.split()) for part in re.split(r"\n\s*\n", self.transcript) if part.strip()]


def listening_time(seconds: float) -> str:
    """A calm, rounded length for people: `45 sec`, `1 min`, `15 min`, `1 h 5 min`."""
    if seconds < 59.5:
        return f"{max(1, round(seconds))} sec"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["urlquote"] = lambda name: quote(str(name), safe="/")
    return env


def subscribe_links(feed_url: str) -> list[tuple[str, str]]:
    """(app, link) that opens the feed in each podcast app: Apple Podcasts, Overcast, Pocket Casts."""
    bare = feed_url.split("://", 1)[-1]
    return [
        ("Apple Podcasts", f"podcast://{bare}"),
        ("Overcast", f"overcast://x-callback-url/add?url={quote(feed_url, safe='')}"),
        ("Pocket Casts", f"pktc://subscribe/{bare}"),
    ]


def page_html(
    *,
    client_name: str,
    practitioner: str,
    title: str,
    tracks: Sequence[PageTrack],
    description: str | None = None,
    language: str = "en",
    cover_name: str | None = None,
    message: str | None = None,
    contact: str | None = None,
    feed_url: str | None = None,
    zip_name: str | None = None,
) -> str:
    """The HTML of a client's listening page. With `feed_url` (an http(s) address), the page links
    the private feed, with buttons for podcast apps and a copy-link."""
    for name in [cover_name, zip_name, *(t.vtt_name for t in tracks), *(file[0] for t in tracks for file in t.audio)]:
        if name is not None and (name.startswith("/") or "://" in name or ".." in Path(name).parts):
            raise ValueError(f"page links must be relative file names, not {name!r}")
    if feed_url is not None and not feed_url.startswith(("https://", "http://")):
        raise ValueError(f"the feed link must be an http(s) address, not {feed_url!r}")
    template = _environment().get_template("index.html.j2")
    return template.render(
        client_name=client_name, practitioner=practitioner, title=title, description=description, language=language,
        cover_name=cover_name, tracks=list(tracks), message=message, contact=contact, feed_url=feed_url,
        subscribe=subscribe_links(feed_url) if feed_url else [], zip_name=zip_name,
        message_paragraphs=[" ".join(part.split()) for part in re.split(r"\n\s*\n", message or "") if part.strip()],
    )  # fmt: skip


def write_page(path: Path, **fields) -> None:
    """Write `page_html(**fields)` to `path` atomically."""
    write_text(Path(path), page_html(**fields))
