"""attune.request: the fingerprint changes with every file a render reads, and only with what decides the output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attune.request import RenderRequest, input_files, request_fingerprint
from attune.settings import Background, TrackSettings
from helpers.audio import write_wav


def tone(path: Path, freq_hz: float) -> Path:
    t = np.arange(44100) / 44100
    return write_wav(path, np.repeat((0.1 * np.sin(2 * np.pi * freq_hz * t))[:, None], 2, axis=1), 44100)


@pytest.fixture
def project(tmp_path):
    tone(tmp_path / "bed.wav", 200)
    tone(tmp_path / "other.wav", 300)
    (tmp_path / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    return tmp_path


def script(folder: Path, background: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(f"title: S\nbackground: {background}\nsections: [{{text: 'Hello. [pause 5s]'}}]\n")
    return path


@pytest.mark.parametrize("background", ["bed.wav", "{file: bed.wav, gain_db: -20}"])
def test_a_bed_named_inside_the_script_is_fingerprinted(project, background):
    request = RenderRequest(script(project, background))
    assert project / "bed.wav" in input_files(request)
    before = request_fingerprint(request)
    assert request_fingerprint(request) == before  # deterministic
    tone(project / "bed.wav", 250)  # the same name, other sound
    assert request_fingerprint(request) != before


def test_a_roster_or_flag_bed_and_the_cover_are_fingerprinted(project):
    path = script(project, "drone")
    request = RenderRequest(path, settings=TrackSettings(background=Background("bed.wav", base_dir=project)), cover=project / "cover.png")
    assert set(input_files(request)) == {path, project / "bed.wav", project / "cover.png"}
    before = request_fingerprint(request)
    tone(project / "bed.wav", 250)
    after_bed = request_fingerprint(request)
    (project / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 16)
    assert len({before, after_bed, request_fingerprint(request)}) == 3


def test_settings_and_labels_decide_the_fingerprint_but_the_output_path_does_not(project):
    path = script(project, "drone")
    base = RenderRequest(path, project / "a.mp3", TrackSettings(length_s=60))
    assert request_fingerprint(base) == request_fingerprint(RenderRequest(path, project / "elsewhere.mp3", TrackSettings(length_s=60)))
    others = [
        RenderRequest(path, settings=TrackSettings(length_s=61)),
        RenderRequest(path, settings=TrackSettings(length_s=60, voice="en-us+f3")),
        RenderRequest(path, settings=TrackSettings(length_s=60, vars={"name": "Bo"})),
        RenderRequest(path, settings=TrackSettings(length_s=60), artist="Dr. Rivera"),
    ]
    before = request_fingerprint(base)
    assert len({before, *(request_fingerprint(r) for r in others)}) == 5
    path.write_text(path.read_text().replace("Hello.", "Hello there."))
    assert request_fingerprint(base) != before


def test_a_broken_script_still_has_a_fingerprint(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("title: [\n")
    assert len(request_fingerprint(RenderRequest(path))) == 64
