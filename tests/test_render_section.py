"""`attune render SCRIPT --section NAME`: only those sections, pauses at their minimum, no length fitting,
`output/<stem>-<section>.mp3`; with the real engine, measured; errors with exact text and exit code."""

from __future__ import annotations

import json

import pytest

from helpers.audio import decode
from helpers.cli import invoke

SCRIPT = """\
title: Evening calm
length: 3m
bells: {start: true, end: true}
sections:
  - name: Arriving
    text: |
      Welcome. [pause 2s..1m]
  - name: Body scan
    rate: 120
    text: |
      Feel your feet. [pause 3s..2m]
      Feel your hands. (pause 5s)
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "evening.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.mark.engine
def test_one_section_renders_alone_at_its_minimum(script, tmp_path, cache, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = invoke("render", script, "--section", "Body scan", "--cache-dir", cache)
    assert first.exit_code == 0, first.stderr
    out = tmp_path / "output" / "evening-body-scan.mp3"
    assert first.stdout.startswith("output/evening-body-scan.mp3  ")
    # The near miss is spoken, and said so; no opening or closing bell, no 3-minute fitting.
    assert first.stderr == f"Warning: {script}:12: (pause 5s) is in round brackets, so it will be spoken — write [pause 5s] for a marker\n"
    audio, rate = decode(out)
    assert 4.0 < len(audio) / rate < 15.0  # two sentences, a 1.25 s gap and the 3 s pause: not 3 minutes
    planned = invoke("plan", script, "--json", "--cache-dir", cache)
    assert planned.exit_code == 0, planned.stderr
    events = json.loads(planned.stdout)["events"]
    voices = {(e["section"], e["voice"].rsplit(" ", 2)[-2]) for e in events if e["kind"] == "speech"}
    assert voices == {("Arriving", "140"), ("Body scan", "120")}  # the section's own rate
    again = invoke("render", script, "--section", "body scan", "--section", "Arriving", "--cache-dir", cache)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("output/evening-body-scan-arriving.mp3  ") and "(speech from cache)" in again.stdout


def test_unknown_section_is_an_error(script, tmp_path):
    result = invoke("render", script, "--section", "Closing", "-o", tmp_path / "x.mp3")
    assert result.stderr == f"Error: {script}: no section 'Closing' in this script — its sections are 'Arriving', 'Body scan'\n"
    assert (result.exit_code, result.stdout) == (1, "")
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--length", "5m"), "--section renders the sections with their pauses at the minimum: drop --length"),
        (("--split", "sections"), "--section and --split cannot be used together: render the sections one at a time"),
    ],
)
def test_section_with_length_or_split_is_usage(script, extra, message):
    result = invoke("render", script, "--section", "Arriving", *extra)
    assert result.stderr == f"Error: {message} — see `attune render --help`\n"
    assert result.exit_code == 2
