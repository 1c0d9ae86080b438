"""`attune check ROSTER` and `attune batch --dry-run`: every problem of every track, one line each, nothing rendered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from attune.library import SOUNDS_DIR
from helpers.cli import invoke

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "title: Evening calm\nsections:\n  - text: |\n      Welcome, {name}. [pause 2s..20s]\n      Rest here.\n"


def roster(tmp_path: Path, tracks: str, defaults: str = "") -> Path:
    (tmp_path / "calm.yaml").write_text(SCRIPT, encoding="utf-8")
    path = tmp_path / "clients.yaml"
    path.write_text(f"practitioner: Kim\n{defaults}clients:\n  - name: Ana\n    tracks:\n{tracks}", encoding="utf-8")
    return path


# (tracks, the problem after `ROSTER:LINE: Ana / 01-…: `, its line)
PROBLEMS = {
    "missing-script": (
        "      - script: nowhere.yaml\n",
        "01-nowhere: the script nowhere.yaml does not exist — check the path: it is relative to the roster file",
        5,
    ),
    "script-error": (
        "      - script: bad.yaml\n",
        "01-bad: {base}/bad.yaml:3: unknown marker [paws 5s] — did you mean [pause 5s]? Markers are [pause 5s], [pause 10s..2m], [pause 10s..], "
        "[short pause], [long pause], [breath], [breath 3], [bell], [bells every 10m]",
        5,
    ),
    "voice": (
        "      - script: calm.yaml\n        voice: en-uss\n",
        "01-calm: unknown voice 'en-uss' — did you mean en-us, en-us-nyc, en-shaw? Run `attune voices` to list them",
        5,
    ),
    "background": (
        "      - script: calm.yaml\n        background: thunder.ogg\n",
        "01-calm: {base}/clients.yaml:6: background file 'thunder.ogg' not found — looked in {base} and {sounds}",
        5,
    ),
    "length": (
        "      - script: calm.yaml\n        length: 10m\n",
        "01-calm: cannot make 10m from this script — this script fits between 5s and 22s (an estimate from the words at 140 wpm)",
        5,
    ),
}


@pytest.mark.parametrize("case", list(PROBLEMS))
@pytest.mark.parametrize("command", ["check", "dry-run"])
def test_each_kind_of_roster_problem(case, command, tmp_path):
    tracks, problem, line = PROBLEMS[case]
    path = roster(tmp_path, tracks)
    (tmp_path / "bad.yaml").write_text("title: B\nsections:\n  - text: Rest [paws 5s]\n", encoding="utf-8")
    result = invoke("check", path) if command == "check" else invoke("batch", path, "--dry-run")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [f"Error: {path}:{line}: Ana / " + problem.format(base=tmp_path.resolve(), sounds=SOUNDS_DIR)]
    assert not (tmp_path / "deliver").exists() and not list(tmp_path.rglob("*.mp3"))


def test_length_problem_says_it_is_an_estimate(tmp_path):
    result = invoke("check", roster(tmp_path, "      - script: calm.yaml\n        length: 10m\n"))
    assert result.stderr.rstrip().endswith("(an estimate from the words at 140 wpm)")


def test_roster_problem_in_a_setting_names_client_and_track(tmp_path):
    path = roster(tmp_path, "      - script: calm.yaml\n        formats: [mp3, ogg]\n      - script: calm.yaml\n        rate: 50\n")
    result = invoke("check", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {path}:6: Ana / track 1: unknown format 'ogg' — use one of: mp3, m4a, m4b, opus, flac, wav",
        f"Error: {path}:8: Ana / track 2: rate must be a number from 80 to 400, not 50 — give words per minute, e.g. rate: 150",
        f"Error: {path}: 2 errors in this file — fix them and run `attune check` again",
    ]


def test_an_unknown_engine_is_a_problem_of_its_track(tmp_path):
    path = roster(tmp_path, "      - script: calm.yaml\n        engine: festival\n")
    result = invoke("check", path)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {path}:6: Ana / track 1: unknown speech engine 'festival' — use one of: pyttsx3, piper, hibari, pico\n"


def test_every_problem_of_every_track_is_listed(tmp_path):
    path = roster(tmp_path, "      - script: nowhere.yaml\n      - script: calm.yaml\n        voice: en-uss\n      - script: calm.yaml\n        length: 10m\n")
    result = invoke("check", path)
    assert [line.split(": ", 3)[2] for line in result.stderr.splitlines()] == ["Ana / 01-nowhere", "Ana / 02-calm", "Ana / 03-calm"]


def test_a_good_roster_passes_and_renders_nothing(tmp_path):
    path = roster(tmp_path, "      - script: calm.yaml\n        length: 15s\n")
    for result in (invoke("check", path), invoke("batch", path, "--dry-run")):
        assert result.exit_code == 0, result.stderr
        assert result.stdout == f"ok  {path}: roster of 1 client, 1 track (mp3), every length fits (1 estimated from the words and the rate)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calm.yaml", "clients.yaml"]


def test_near_miss_in_a_track_warns_and_strict_fails(tmp_path):
    (tmp_path / "near.yaml").write_text("title: N\nsections:\n  - text: Rest (pause 5s) now.\n", encoding="utf-8")
    path = roster(tmp_path, "      - script: near.yaml\n")
    warning = f"{path}:5: Ana / 01-near: {tmp_path / 'near.yaml'}:3: (pause 5s) is in round brackets, so it will be spoken — write [pause 5s] for a marker"
    result = invoke("check", path)
    assert result.exit_code == 0 and result.stderr == f"Warning: {warning}\n"
    strict = invoke("check", path, "--strict")
    assert strict.exit_code == 1 and strict.stderr == f"Error: {warning}\n" and strict.stdout == ""


def test_the_sample_roster_passes(tmp_path):
    examples = tmp_path / "examples"
    shutil.copytree(REPO / "examples", examples)
    result = invoke("check", examples / "clients.yaml", "--strict")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ok  {examples / 'clients.yaml'}: roster of 3 clients, 4 tracks (mp3, opus), every length fits")


def test_batch_without_output_is_usage(tmp_path):
    result = invoke("batch", roster(tmp_path, "      - script: calm.yaml\n"))
    assert result.exit_code == 2
    assert result.stderr == "Error: Missing option '-o' / '--output' — see `attune batch --help`\n"


def test_dry_run_checks_the_voices_with_the_engine_of_the_command_line(tmp_path):
    """`--engine piper` is over every track: an espeak variant is then a problem of its track, found
    the way the render would find Piper's voices (its files), and a plain language code still fits."""
    path = roster(tmp_path, "      - script: calm.yaml\n        voice: en-us+f3\n      - script: calm.yaml\n        voice: en-us\n")
    assert invoke("batch", path, "--dry-run").exit_code == 0
    result = invoke("batch", path, "--dry-run", "--engine", "piper", "--voices-dir", tmp_path / "voices")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}:5: Ana / 01-calm: unknown Piper voice 'en-us+f3' (installed: joe (en_US-joe-medium)) — ")
    assert result.stderr.count("\n") == 1  # the second track (voice: en-us) is Piper's en_US voice
