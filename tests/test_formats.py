"""attune.media.formats: the table of formats, -o and --format into output files, bitrates per format."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.errors import SettingsError
from attune.formats import FORMAT_NAMES, FORMATS, outputs_for, parse_formats

STEM = Path("output/practice")


def names(outputs):
    return [(fmt.name, str(path)) for fmt, path in outputs]


def test_the_suffix_decides_when_no_format_is_given():
    assert names(outputs_for(Path("x.m4b"), None, STEM)) == [("m4b", "x.m4b")]
    assert names(outputs_for(Path("a/b.OPUS"), None, STEM)) == [("opus", "a/b.opus")]
    assert names(outputs_for(Path("track"), None, STEM)) == [("mp3", "track.mp3")]
    assert names(outputs_for(None, None, STEM)) == [("mp3", "output/practice.mp3")]


def test_several_formats_share_the_stem():
    assert names(outputs_for(Path("out/x.mp3"), ("mp3", "m4a", "flac"), STEM)) == [("mp3", "out/x.mp3"), ("m4a", "out/x.m4a"), ("flac", "out/x.flac")]
    assert names(outputs_for(Path("out/x.m4a"), ("mp3", "m4a"), STEM)) == [("mp3", "out/x.mp3"), ("m4a", "out/x.m4a")]
    assert names(outputs_for(None, ("opus", "wav"), STEM)) == [("opus", "output/practice.opus"), ("wav", "output/practice.wav")]


def test_a_suffix_that_contradicts_the_format_is_an_error():
    with pytest.raises(SettingsError) as err:
        outputs_for(Path("x.m4a"), ("mp3",), STEM)
    assert str(err.value) == "x.m4a: the output x.m4a is m4a, but --format asks for mp3 — name the output x.mp3, or pass --format m4a"
    with pytest.raises(SettingsError) as err:
        outputs_for(Path("x.ogg"), None, STEM)
    assert str(err.value) == "x.ogg: the output x.ogg has an unknown suffix '.ogg' — use .mp3, .m4a, .m4b, .opus, .flac, .wav, or pass --format"


@pytest.mark.parametrize(
    "fmt, bitrate, expected",
    [
        ("mp3", None, "128k"),
        ("mp3", "320K", "320k"),
        ("m4a", "64k", "64k"),
        ("opus", None, "64k"),
        ("opus", "24k", "24k"),
        ("flac", None, None),
        ("wav", None, None),
    ],
)
def test_bitrates_per_format(fmt, bitrate, expected):
    assert FORMATS[fmt].bitrate(bitrate) == expected


@pytest.mark.parametrize(
    "fmt, bitrate, message",
    [
        ("opus", "16k", "bitrate '16k' is not valid for opus — use 24k to 256k for opus, such as 64k"),
        ("m4a", "320k", "bitrate '320k' is not valid for m4a — use 64k to 256k for m4a, such as 128k"),
        ("mp3", "400k", "bitrate '400k' is not valid for mp3 — use 32k to 320k for mp3, such as 128k"),
        ("flac", "128k", "flac is lossless and takes no bitrate (got 128k) — drop --bitrate, or use a lossy format such as mp3 for flac"),
    ],
)
def test_bad_bitrates_name_the_format(fmt, bitrate, message):
    with pytest.raises(SettingsError) as err:
        FORMATS[fmt].bitrate(bitrate)
    assert str(err.value) == message


def test_parse_formats():
    assert parse_formats("mp3, M4A") == ("mp3", "m4a")
    assert parse_formats(["opus", "flac,wav"]) == ("opus", "flac", "wav")
    assert FORMAT_NAMES[0] == "mp3"
    for bad, message in [("", "no format given"), ("mp3,mp3", "format given twice in mp3,mp3"), ("ogg", "unknown format 'ogg'")]:
        with pytest.raises(SettingsError, match=message):
            parse_formats(bad)


def test_every_format_has_what_feeds_and_pages_need():
    for fmt in FORMATS.values():
        assert fmt.suffix == f".{fmt.name}" and fmt.mime.startswith("audio/")
        assert fmt.sample_rate in (44100, 48000) and fmt.ceiling_dbtp <= -1.5
        assert (fmt.default_bitrate is None) == fmt.lossless
