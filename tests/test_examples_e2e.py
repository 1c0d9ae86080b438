"""The sample roster in examples/ renders end to end with the real engine (three clients, two formats)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from attune.cli import cli
from helpers.audio import decode

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.long
@pytest.mark.engine
def test_the_sample_roster_renders(tmp_path, cache):
    examples = tmp_path / "examples"
    shutil.copytree(REPO / "examples", examples)
    result = CliRunner().invoke(cli, ["batch", str(examples / "clients.yaml"), "-o", str(tmp_path / "deliver"), "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    mp3s = sorted((tmp_path / "deliver" / "tracks").rglob("*.mp3"))
    opus = sorted((tmp_path / "deliver" / "tracks").rglob("*.opus"))
    assert len(mp3s) == 4 and len(opus) == 4
    lengths = sorted(round(len(decode(p)[0]) / decode(p)[1]) for p in mp3s)
    assert lengths == [60, 60, 60, 120]
