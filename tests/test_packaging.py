"""A plain (non-editable) install carries everything: the built-in practices, the bundled sounds,
the page template and py.typed. The wheel is built from this checkout and unpacked into a folder
that is put first on the path, so the installed copy, not the source tree, is what runs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def installed(repo, tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(repo)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("attune-*.whl")
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def attune(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(installed))
    code = "import sys, attune; assert attune.__file__.startswith(sys.argv[1]), attune.__file__\nfrom attune.cli import main\nsys.argv[1:2] = []\nmain()"
    return subprocess.run([sys.executable, "-c", code, str(installed), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_the_package_data(installed):
    package = installed / "attune"
    assert sorted(p.name for p in (package / "practices").iterdir()) == [
        "arriving.yaml",
        "before-a-session.md",
        "being-with-pain.yaml",
        "compassion-in-the-body.txt",
        "just-like-me.yaml",
        "loving-kindness.yaml",
        "self-compassion-break.md",
    ]
    assert {"singing-bowl.flac", "soft-rain.ogg"} <= {p.name for p in (package / "sounds").iterdir()}
    assert (package / "delivery" / "templates" / "index.html.j2").is_file() and (package / "py.typed").is_file()


@pytest.mark.engine
def test_an_installed_attune_finds_its_practices_and_sounds_from_any_folder(installed, tmp_path, cache):
    listing = attune(installed, tmp_path, "library")
    assert listing.returncode == 0, listing.stderr
    assert "\nloving-kindness         Loving-kindness  " in listing.stdout and str(installed) in listing.stdout
    planned = attune(installed, tmp_path, "plan", "loving-kindness", "--length", "10m", "--cache-dir", str(cache))
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith("loving-kindness: 10m (fits ")
    (tmp_path / "sit.yaml").write_text("title: Sit\nbackground: soft-rain.ogg\nsections: [{text: 'Rest here. [pause 10s]'}]\n")
    rendered = attune(installed, tmp_path, "render", "sit.yaml", "--cache-dir", str(cache))
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "output" / "sit.mp3").is_file()


def test_a_local_file_wins_over_a_built_in_practice(installed, tmp_path):
    (tmp_path / "arriving.yaml").write_text("title: My own arriving\nsections: [{text: 'Hello. [pause 1s]'}]\n")
    local = attune(installed, tmp_path, "check", "arriving.yaml")
    builtin = attune(installed, tmp_path / "..", "check", "arriving")
    assert local.returncode == builtin.returncode == 0, local.stderr + builtin.stderr
    assert local.stdout == "ok  arriving.yaml: 1 section, 1 word, pauses from 1s, fits exactly 1.6s (an estimate from the words at 140 wpm)\n"
    assert builtin.stdout.startswith("ok  arriving: ") and "1 word" not in builtin.stdout
    # A local entry of that name is what the name means here, even a folder (an error, not the built-in).
    (tmp_path / "arriving").mkdir()
    assert attune(installed, tmp_path, "check", "arriving").returncode == 1
