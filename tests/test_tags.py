"""ID3v2.4 tags written by attune.tags, read back with mutagen."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3

from attune.errors import OutputError, SettingsError
from attune.media.tags import MAX_COVER_BYTES, Chapter, check_cover, write_tags
from attune.system.ffmpeg import ffmpeg_exe


def tiny_png() -> bytes:
    """A valid 1×1 PNG, made here so no binary fixture is needed."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x7f\xa0\x90")) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def silent_mp3(tmp_path_factory) -> bytes:
    """One second of silence with tags ffmpeg wrote (a title and an encoder frame)."""
    out = tmp_path_factory.mktemp("mp3") / "silence.mp3"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=mono",
            "-t",
            "1",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "32k",
            "-metadata",
            "title=Old title",
            "-metadata",
            "comment=old",
            "-id3v2_version",
            "3",
            "-write_id3v1",
            "1",
            "-y",
            str(out),
        ],
        check=True,
        timeout=30,
    )
    return out.read_bytes()


@pytest.fixture
def mp3(tmp_path, silent_mp3) -> Path:
    path = tmp_path / "track.mp3"
    path.write_bytes(silent_mp3)
    return path


@pytest.fixture
def cover(tmp_path) -> Path:
    path = tmp_path / "cover.png"
    path.write_bytes(tiny_png())
    return path


CHAPTERS = [Chapter("Arriving", 0.0, 0.4), Chapter("Breath", 0.4, 0.75), Chapter("Closing", 0.75, 1.0)]


def test_every_frame_reads_back(mp3, cover):
    write_tags(mp3, title="Loving kindness", artist="Dr. Rivera", album="Weekly practice", comment="For Ana", track=(2, 5), cover=cover, chapters=CHAPTERS)
    tag = ID3(mp3)
    assert tag.version == (2, 4, 0)
    assert tag["TIT2"].text == ["Loving kindness"]
    assert tag["TPE1"].text == ["Dr. Rivera"]
    assert tag["TALB"].text == ["Weekly practice"]
    comments = tag.getall("COMM")
    assert len(comments) == 1 and comments[0].lang == "eng" and comments[0].desc == "" and comments[0].text == ["For Ana"]
    assert tag["TRCK"].text == ["2/5"]
    (picture,) = tag.getall("APIC")
    assert picture.type == 3 and picture.mime == "image/png" and picture.data == cover.read_bytes()


def test_chapters_and_table_of_contents(mp3):
    write_tags(mp3, title="Body scan", chapters=CHAPTERS)
    tag = ID3(mp3)
    (toc,) = tag.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.sub_frames["TIT2"].text == ["Body scan"]
    chaps = {c.element_id: c for c in tag.getall("CHAP")}
    assert [(chaps[i].start_time, chaps[i].end_time, chaps[i].sub_frames["TIT2"].text[0]) for i in toc.child_element_ids] == [
        (0, 400, "Arriving"),
        (400, 750, "Breath"),
        (750, 1000, "Closing"),
    ]
    # The CHAP frames are in time order in the file too (ffmpeg lists chapters in file order).
    assert [c.element_id for c in tag.getall("CHAP")] == list(toc.child_element_ids)


def test_replaces_whatever_ffmpeg_wrote_and_keeps_the_audio(mp3):
    before = ID3(mp3)
    assert before["TIT2"].text == ["Old title"] and before.getall("TSSE")
    assert mp3.read_bytes()[-128:-125] == b"TAG"  # the ID3v1 tail
    write_tags(mp3, title="New")
    tag = ID3(mp3)
    assert sorted(tag.keys()) == ["TIT2"]
    assert mp3.read_bytes()[-128:-125] != b"TAG"
    assert MP3(mp3).info.length == pytest.approx(1.0, abs=0.06)
    assert not tag.getall("CTOC") and not tag.getall("CHAP")


def test_jpeg_cover_has_jpeg_mime(mp3, tmp_path):
    jpeg = tmp_path / "cover.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    write_tags(mp3, title="T", cover=jpeg)
    assert ID3(mp3).getall("APIC")[0].mime == "image/jpeg"


def test_unicode_text_survives(mp3):
    write_tags(mp3, title="Métta — 慈悲", artist="Zoë")
    tag = ID3(mp3)
    assert tag["TIT2"].text == ["Métta — 慈悲"] and tag["TPE1"].text == ["Zoë"]


def test_missing_mp3_is_an_output_error(tmp_path):
    with pytest.raises(OutputError) as err:
        write_tags(tmp_path / "nowhere" / "x.mp3", title="T")
    assert str(err.value).startswith(f"{tmp_path / 'nowhere' / 'x.mp3'}: cannot write tags")


def test_bad_chapter_and_track_raise():
    with pytest.raises(ValueError):
        Chapter("Backwards", 2.0, 1.0)
    with pytest.raises(ValueError):
        write_tags(Path("unused.mp3"), title="T", track=(3, 2))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "the cover image does not exist"),
        (lambda p: p.mkdir(), "the cover image is not a file"),
        (lambda p: p.write_bytes(b"GIF89a" + b"\x00" * 10), "the cover image is not a PNG or JPEG file"),
        (lambda p: p.write_text("hello"), "the cover image is not a PNG or JPEG file"),
    ],
)
def test_check_cover_rejects(tmp_path, make, message):
    path = tmp_path / "cover.png"
    make(path)
    with pytest.raises(SettingsError) as err:
        check_cover(path)
    assert str(err.value) == f"{path}: {message} — use a PNG or JPEG image of at most 5 MB"


def test_check_cover_size_limit(tmp_path):
    path = tmp_path / "big.png"
    with open(path, "wb") as handle:
        handle.write(tiny_png())
        handle.truncate(MAX_COVER_BYTES + 1)
    with pytest.raises(SettingsError) as err:
        check_cover(path)
    assert str(err.value) == f"{path}: the cover image is 5.0 MB, over the 5 MB limit — use a smaller PNG or JPEG image"
    with open(path, "r+b") as handle:
        handle.truncate(MAX_COVER_BYTES)
    check_cover(path)


def test_cover_error_names_file_when_writing(mp3, tmp_path):
    with pytest.raises(SettingsError, match="missing.png"):
        write_tags(mp3, title="T", cover=tmp_path / "missing.png")
