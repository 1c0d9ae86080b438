"""attune.audio.background: what users write as a background, validated into a BedSpec with its position."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.audio.background import BedSpec, parse_background
from attune.errors import AudioError, SettingsError
from attune.library import SOUNDS_DIR
from attune.timebase import SAMPLE_RATE
from helpers.audio import write_wav

SR = SAMPLE_RATE

KINDS_HINT = "use one of: none, drone, binaural, pink-noise, brown-noise, white-noise, or a sound file path"


def test_parse_kinds_files_and_mappings(tmp_path):
    assert parse_background(None, base_dir=tmp_path) is None
    assert parse_background("none", base_dir=tmp_path) is None
    assert parse_background("Pink-Noise", base_dir=tmp_path) == BedSpec("pink-noise")
    assert parse_background({"kind": "binaural", "carrier_hz": 180, "beat_hz": 6, "gain_db": -24}, base_dir=tmp_path) == BedSpec(
        "binaural", carrier_hz=180.0, beat_hz=6.0, gain_db=-24.0
    )
    assert parse_background({"kind": "none"}, base_dir=tmp_path) is None
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    rain = write_wav(sounds / "rain.wav", 0.1 * np.ones(SR), SR)
    assert parse_background("sounds/rain.wav", base_dir=tmp_path) == BedSpec("file", path=rain.resolve())
    assert parse_background({"file": "sounds/rain.wav", "gain_db": -20}, base_dir=tmp_path) == BedSpec("file", path=rain.resolve(), gain_db=-20.0)
    assert parse_background(str(rain), base_dir=Path("/")) == BedSpec("file", path=rain.resolve())


@pytest.mark.parametrize(
    "value, message",
    [
        ("drnoe", f"script.yaml:7: unknown background 'drnoe' — did you mean 'drone'? Otherwise {KINDS_HINT}"),
        ("pink", f"script.yaml:7: unknown background 'pink' — did you mean 'pink-noise'? Otherwise {KINDS_HINT}"),
        ("soft-rain", f"script.yaml:7: unknown background 'soft-rain' — did you mean 'soft-rain.ogg'? Otherwise {KINDS_HINT}"),
        ("ocean", f"script.yaml:7: unknown background 'ocean' — did you mean 'brown-noise'? Otherwise {KINDS_HINT}"),
        ("rain", f"script.yaml:7: unknown background 'rain' — did you mean 'soft-rain.ogg'? Otherwise {KINDS_HINT}"),
        (
            {"kind": "binaural", "beat": 3},
            "script.yaml:7: unknown background setting 'beat' — did you mean 'beat_hz'? Settings: kind, file, gain_db, root_hz, carrier_hz, beat_hz, seed",
        ),
        ({"kind": "drone", "beat_hz": 3}, "script.yaml:7: background setting 'beat_hz' does not apply to drone — drone takes: gain_db, root_hz, seed"),
        ({"kind": "drone", "gain_db": "loud"}, "script.yaml:7: background gain_db must be a number, not 'loud'"),
        ({"kind": "drone", "gain_db": True}, "script.yaml:7: background gain_db must be a number, not True"),
        ({"kind": "drone", "gain_db": 5}, "script.yaml:7: background gain_db 5 is out of range — use -60 to 0"),
        ({"kind": "drone", "root_hz": 20}, "script.yaml:7: background root_hz 20 is out of range — use 40 to 1000"),
        ({"kind": "binaural", "beat_hz": 45}, "script.yaml:7: background beat_hz 45 is out of range — use 0.5 to 40"),
        ({"kind": "binaural", "carrier_hz": 2000}, "script.yaml:7: background carrier_hz 2000 is out of range — use 40 to 1500"),
        ({"kind": "pink-noise", "seed": 1.5}, "script.yaml:7: background seed must be a whole number, not 1.5"),
        ({"kind": 3}, "script.yaml:7: background kind must be text, not 3"),
        ({"gain_db": -20}, "script.yaml:7: background settings need a kind or a file — e.g. {kind: drone, gain_db: -24} or {file: rain.ogg}"),
        ({"kind": "drone", "file": "a.wav"}, "script.yaml:7: background settings have both kind 'drone' and a file — keep one of them"),
        ({"kind": "file"}, "script.yaml:7: background kind 'file' needs a file — write {file: rain.ogg}"),
        ({"kind": "rain"}, f"script.yaml:7: unknown background kind 'rain' — did you mean 'soft-rain.ogg'? Otherwise {KINDS_HINT}"),
        (
            42,
            "script.yaml:7: background must be a kind, a sound file or a mapping, not 42 — write e.g. `background: drone`, "
            "`background: rain.ogg` or `background: {kind: drone, gain_db: -24}`",
        ),
    ],
)
def test_parse_errors_have_exact_text(tmp_path, value, message):
    with pytest.raises(SettingsError) as err:
        parse_background(value, base_dir=tmp_path, path="script.yaml", line=7)
    assert str(err.value) == message
    assert (err.value.path, err.value.line) == ("script.yaml", 7)


def test_missing_and_undecodable_files_are_audio_errors(tmp_path):
    with pytest.raises(AudioError) as err:
        parse_background("rain.ogg", base_dir=tmp_path, path="s.yaml", line=3)
    assert str(err.value) == f"s.yaml:3: background file 'rain.ogg' not found — looked in {tmp_path} and {SOUNDS_DIR}; did you mean 'soft-rain.ogg'?"
    with pytest.raises(AudioError) as err:
        parse_background({"file": "sub/rain.wav"}, base_dir=tmp_path)
    assert str(err.value) == f"background file 'sub/rain.wav' not found — looked in {tmp_path}"
    (tmp_path / "notes.mp3").write_text("these are words, not sound\n" * 20)
    with pytest.raises(AudioError) as err:
        parse_background("notes.mp3", base_dir=tmp_path, path="s.yaml", line=4)
    assert str(err.value).startswith("s.yaml:4: background file 'notes.mp3' is not a sound file ffmpeg can decode — use a WAV, MP3, OGG or FLAC file (ffmpeg: ")


def test_bedspec_validates_at_construction():
    with pytest.raises(SettingsError, match="^background root_hz 20 is out of range — use 40 to 1000$"):
        BedSpec("drone", root_hz=20)
    with pytest.raises(SettingsError, match="^a file background needs a path$"):
        BedSpec("file")
    with pytest.raises(SettingsError, match="^a drone background takes no path$"):
        BedSpec("drone", path=Path("x.wav"))
    with pytest.raises(SettingsError, match="^background kind 'none' is not a bed — parse_background returns None for no bed$"):
        BedSpec("none")
    with pytest.raises(SettingsError, match="^background gain_db nan is out of range"):
        BedSpec("drone", gain_db=float("nan"))
