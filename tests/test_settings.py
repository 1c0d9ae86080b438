"""attune.settings: one TrackSettings, one set of ranges, one precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from attune.delivery.roster import parse_roster_text
from attune.errors import SettingsError
from attune.render import load
from attune.request import RenderRequest
from attune.settings import DEFAULTS, Background, TrackSettings


@pytest.mark.parametrize(
    "values, message",
    [
        ({"rate_wpm": 50}, "rate 50 words per minute is out of range — use a rate from 80 to 400, such as 140"),
        ({"rate_wpm": "fast"}, "rate must be a number, not 'fast'"),
        ({"pitch": 101}, "pitch 101 is out of range — use a whole number from 0 to 100 (50 is the voice's normal pitch)"),
        ({"pitch": True}, "pitch True is out of range — use a whole number from 0 to 100 (50 is the voice's normal pitch)"),
        ({"background_db": 3}, "background level 3 dB is out of range — use a value from -60 to 0, such as -22"),
        (
            {"loudness_lufs": -10},
            "loudness target -10 LUFS is out of range — use a value from -40 to -14, such as -16 (louder voices would need heavy limiting to stay under -1 dBTP)",
        ),
        ({"length_s": 0}, "length 0 is out of range — give a length from 1s to 12h, such as 10m"),
        ({"engine": "festival"}, "unknown speech engine 'festival' — use one of: pyttsx3, piper, hibari, pico"),
        ({"formats": ("mp3", "ogg")}, "unknown format 'ogg' — use one of: mp3, m4a, m4b, opus, flac, wav"),
        ({"formats": ("mp3", "mp3")}, "format given twice in mp3,mp3 — name each format once"),
        ({"bitrate": "1000k"}, "bitrate '1000k' is not valid — write it like 128k (MP3 and AAC 128k, Opus 64k by default)"),
        ({"vars": {"1st": "x"}}, "placeholder name '1st' is not valid — names are letters, digits and _, not starting with a digit: name=Ana"),
        ({"bells_start": "yes"}, "bells.start must be true or false, not 'yes'"),
    ],
)
def test_one_set_of_ranges(values, message):
    with pytest.raises(SettingsError) as err:
        TrackSettings(**values)
    assert str(err.value) == message


def test_values_are_normalised():
    settings = TrackSettings(rate_wpm=150, formats="wav", bitrate=" 192K ", vars={"n": 3}, background="drone")
    assert settings.rate_wpm == 150.0 and isinstance(settings.rate_wpm, float)
    assert settings.formats == ("wav",) and settings.format == "wav" and settings.bitrate == "192k"
    assert settings.vars == {"n": "3"}
    assert settings.background == Background("drone", Path.cwd())


def test_layers_merge_highest_first_and_vars_by_name():
    script = TrackSettings(voice="en-gb", rate_wpm=120, length_s=600, vars={"name": "friend", "place": "here"})
    defaults = TrackSettings(voice="en-us", background_db=-30, vars={"place": "the garden"})
    track = TrackSettings(rate_wpm=160, vars={"name": "Ana"})
    flags = TrackSettings(voice="en-us+f3")
    merged = TrackSettings.layered(flags, track, defaults, script)
    assert (merged.voice, merged.rate_wpm, merged.length_s, merged.background_db) == ("en-us+f3", 160.0, 600.0, -30.0)
    assert merged.vars == {"name": "Ana", "place": "the garden"}
    assert merged == flags.over(track.over(defaults.over(script)))
    resolved = TrackSettings().resolved()
    assert resolved == DEFAULTS and (resolved.engine, resolved.rate_wpm, resolved.loudness_lufs, resolved.format) == ("pyttsx3", 140.0, -16.0, "mp3")


def test_fingerprint_comes_from_the_settings():
    a = TrackSettings(voice="en-us", length_s=60)
    assert a.fingerprint() == TrackSettings(length_s=60.0, voice="en-us").fingerprint()
    assert a.fingerprint() != a.with_changes(length_s=61).fingerprint()
    here, there = Background("rain.ogg", Path("/a")), Background("rain.ogg", Path("/b"))
    assert TrackSettings(background=here).fingerprint() != TrackSettings(background=there).fingerprint()


def test_the_renderer_merges_roster_layers_over_the_script(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "title: S\nvoice: en-gb\nrate: 120\nlength: 10m\nvars: {name: friend, mood: calm}\nsections: [{text: 'Hello {name}, {mood}. [pause 5s..]'}]\n"
    )
    roster = parse_roster_text(
        "practitioner: Kim\ndefaults: {rate: 150, length: 5m}\nclients:\n  - name: Ana\n    tracks:\n      - script: s.yaml\n        length: 7m\n",
        path=tmp_path / "r.yaml",
    )
    (track,) = roster.clients[0].tracks
    flags = TrackSettings(voice="en-us+f3")
    script, settings = load(RenderRequest(track.script, settings=flags.over(track.settings)))
    assert (settings.voice, settings.rate_wpm, settings.length_s) == ("en-us+f3", 150.0, 420.0)
    assert settings.vars == {"name": "Ana", "mood": "calm"}
    assert script.sections[0].items[0].text == "Hello Ana, calm."
