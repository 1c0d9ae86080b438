"""`attune new` (a commented starter script that passes `check --strict` and renders) and `attune
library`'s bundled sounds, with lengths that match the decoded files."""

from __future__ import annotations

import pytest

from attune.library import SOUNDS_DIR
from attune.script import Bell, Pause, Speech, load_script
from attune.script.starter import PRACTICES
from helpers.audio import bell_strikes, decode, decode_mono
from helpers.cli import invoke


@pytest.mark.parametrize("practice", PRACTICES)
def test_each_starter_passes_check_strict(tmp_path, practice):
    path = tmp_path / "mine.yaml"
    result = invoke("new", tmp_path / "mine", "--practice", practice, "--length", "10m")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}  ")
    check = invoke("check", path, "--strict")
    assert check.exit_code == 0 and check.stderr == "", check.stderr
    assert check.stdout.startswith(f"ok  {path}: ")
    text = path.read_text("utf-8")
    for option in ("# voice:", "# rate:", "# background:", "# engine:", "interval_bells", "[pause 10s..1m]", "{name}"):
        assert option in text, option
    script = load_script(path)
    items = [item for section in script.sections for item in section.items]
    assert len(script.sections) >= 3 and script.settings.length_s == 600
    assert any(isinstance(i, Bell) for i in items) and any(isinstance(i, Pause) and i.elastic for i in items)
    assert any(isinstance(i, Speech) and "friend" in i.text for i in items)  # the placeholder, filled from vars


def test_new_refuses_what_it_cannot_write(tmp_path):
    path = tmp_path / "mine.yaml"
    assert invoke("new", path).exit_code == 0
    again = invoke("new", path)
    assert again.exit_code == 1 and again.stderr == f"Error: {path}: {path} already exists — choose another name, or pass --force to replace it\n"
    short = invoke("new", tmp_path / "short", "--length", "1m")
    assert short.exit_code == 1 and short.stderr == f"Error: {tmp_path / 'short.yaml'}: the breath starter cannot be 1m long — this script fits 2m36s or longer\n"
    assert not (tmp_path / "short.yaml").exists()
    assert invoke("new", tmp_path / "x.md").exit_code == 2
    assert invoke("new", tmp_path / "y", "--practice", "jogging").exit_code == 2


def test_library_lists_the_bundled_sounds_with_their_lengths():
    result = invoke("library")
    assert result.exit_code == 0
    listed = result.stdout.split("bundled sounds (--background NAME, or background: NAME in a script):\n")[1].splitlines()
    lengths = {}
    for row in listed:
        name, length = row.split()
        lengths[name] = length
    for name, length in lengths.items():
        audio, sr = decode(SOUNDS_DIR / name)
        assert length == f"{round(audio.shape[0] / sr)}s"
    assert set(lengths) == {"singing-bowl.flac", "soft-rain.ogg"}


def test_a_background_not_found_suggests_bundled_sounds_by_meaning(tmp_path):
    path = tmp_path / "rainy.txt"
    path.write_text("Rest here. [pause 5s]\n", encoding="utf-8")
    result = invoke("render", path, "--background", "rain", "-o", tmp_path / "x.mp3")
    assert result.exit_code == 1
    assert "unknown background 'rain' — did you mean 'soft-rain.ogg'?" in result.stderr


@pytest.mark.engine
def test_a_starter_renders(tmp_path, shared_engine_cache):
    path = tmp_path / "breath.yaml"
    assert invoke("new", path, "--length", "2m40s").exit_code == 0
    out = tmp_path / "breath.wav"
    result = invoke("render", path, "-o", out, "--cache-dir", shared_engine_cache)
    assert result.exit_code == 0, result.stderr
    x = decode_mono(out, 2000)
    assert abs(x.size / 2000 - 160.0) < 0.05
    # The opening bell, the [bell] before the closing words, the closing bell.
    assert [kind for _, kind in bell_strikes(x, 2000)] == ["bell", "bell", "bell"]
