"""The listening page from attune.page, read back with html.parser."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from attune.delivery.page import PageTrack, listening_time, page_html, write_page

HOSTILE = "<script>alert(1)</script> & \"x\" 'y' <img src=x onerror=alert(2)>"


class Collector(HTMLParser):
    """Every start tag with its attributes, and the text inside each element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link", "img", "track", "source", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.stack and data.strip():
            self.text.setdefault(self.stack[-1], []).append(data.strip())

    def all(self, tag):
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


TRACKS = [
    PageTrack(
        1,
        "Loving kindness",
        905.4,
        "01-loving-kindness.mp3",
        "01-loving-kindness.vtt",
        "A warm practice.",
        "May you be well. May you be at ease.\n\nMay all beings be well.",
    ),
    PageTrack(2, "Body scan", 42, "02-body-scan.mp3", None, None, ""),
]


def render(**overrides) -> str:
    fields = dict(
        client_name="Ana",
        practitioner="Dr. Rivera",
        title="Weekly practice",
        tracks=TRACKS,
        description="Ten quiet minutes.",
        language="es",
        cover_name="cover.png",
    )
    fields.update(overrides)
    return page_html(**fields)


def test_one_audio_per_track_with_relative_sources():
    page = parse(render())
    audios = page.all("audio")
    assert [a["src"] for a in audios] == ["01-loving-kindness.mp3", "02-body-scan.mp3"]
    assert all(a["preload"] == "metadata" and "controls" in a for a in audios)
    (track,) = page.all("track")
    assert track == {"kind": "captions", "src": "01-loving-kindness.vtt", "srclang": "es", "label": "Captions", "default": None}
    downloads = [a["href"] for a in page.all("a") if "download" in a]
    assert downloads == ["01-loving-kindness.mp3", "01-loving-kindness.vtt", "02-body-scan.mp3"]
    assert page.all("html")[0]["lang"] == "es"
    assert page.all("img")[0]["src"] == "cover.png"


def test_heading_text_and_transcript():
    page = parse(render())
    assert page.text["h1"] == ["Ana"]
    assert page.text["h2"] == ["Loving kindness", "Body scan"]
    assert "Weekly practice · from Dr. Rivera" in page.text["p"]
    assert "15 min" in page.text["p"] and "42 sec" in page.text["p"]
    assert "May you be well. May you be at ease." in page.text["p"] and "May all beings be well." in page.text["p"]
    assert page.text["summary"] == ["Transcript"]  # only the first track has one


def test_no_external_resources_or_absolute_paths():
    html = render()
    page = parse(html)
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert not value.startswith(("/", "file:", "http:", "https:", "//")), value
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert len(page.all("style")) == 1 and page.all("link") == []


def test_hostile_names_are_escaped():
    hostile_track = PageTrack(1, HOSTILE, 60, "01-x.mp3", "01-x.vtt", HOSTILE, HOSTILE)
    html = render(client_name=HOSTILE, practitioner=HOSTILE, title=HOSTILE, description=HOSTILE, tracks=[hostile_track], cover_name=None)
    page = parse(html)
    assert page.all("script") == [] and len(page.all("img")) == 0
    assert page.text["h1"] == [HOSTILE] and page.text["h2"] == [HOSTILE]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_file_names_are_url_quoted_and_must_be_relative():
    page = parse(render(tracks=[PageTrack(1, "T", 60, "01 a#b.mp3", "01 a#b.vtt")]))
    assert page.all("audio")[0]["src"] == "01%20a%23b.mp3"
    for bad in ("/etc/passwd.mp3", "../x.mp3", "file:///x.mp3", "https://evil/x.mp3"):
        with pytest.raises(ValueError):
            render(tracks=[PageTrack(1, "T", 60, bad)])


def test_no_tracks_yet():
    page = parse(render(tracks=[]))
    assert page.all("audio") == [] and "No recordings are ready yet." in page.text["p"]


@pytest.mark.parametrize(
    "seconds, text", [(0.2, "1 sec"), (42, "42 sec"), (59.4, "59 sec"), (59.6, "1 min"), (905.4, "15 min"), (3600, "1 h"), (3900, "1 h 5 min")]
)
def test_listening_time(seconds, text):
    assert listening_time(seconds) == text


def test_write_page(tmp_path):
    path = tmp_path / "index.html"
    write_page(path, client_name="Ana", practitioner="Kim", title="T", tracks=TRACKS)
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
