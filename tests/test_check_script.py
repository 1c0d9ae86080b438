"""`attune check` on scripts: every error at once, near-miss warnings (--strict fails on them), bare text files,
and the same feasible range from plan, check and the impossible-length error. Exact text and exit codes."""

from __future__ import annotations

from attune.errors import MAX_LISTED_ERRORS
from helpers.cli import invoke

MARKERS = "Markers are [pause 5s], [pause 10s..2m], [pause 10s..], [short pause], [long pause], [breath], [breath 3], [bell], [bells every 10m]"


def test_every_error_in_a_file_is_reported(tmp_path):
    path = tmp_path / "seven.yaml"
    bad = ["[paws 5s]", "[pause 5x]", "[bell 2]", "{nmae}", "]", "[breath zero]", "<break time='x'/>"]
    path.write_text("title: T\nrate: fast\nsections:\n  - text: |\n" + "".join(f"      Line {k}. {b}\n" for k, b in enumerate(bad)), encoding="utf-8")
    for result in (invoke("check", path), invoke("render", path, "-o", tmp_path / "x.mp3")):
        lines = result.stderr.splitlines()
        assert result.exit_code == 1 and result.stdout == ""
        assert [line.split(": ", 2)[1] for line in lines] == [f"{path}:{n}" for n in (2, 5, 6, 7, 8, 9, 10, 11)] + [str(path)]
        assert lines[1] == f"Error: {path}:5: unknown marker [paws 5s] — did you mean [pause 5s]? {MARKERS}"
        assert lines[-1] == f"Error: {path}: 8 errors in this file — fix them and run `attune check` again"
    assert not (tmp_path / "x.mp3").exists()


def test_errors_are_listed_up_to_a_cap_with_the_count(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("---\ntitle: T\n---\n" + "Rest [paws 5s].\n" * 30, encoding="utf-8")
    lines = invoke("check", path).stderr.splitlines()
    assert len(lines) == MAX_LISTED_ERRORS + 1
    assert lines[-1] == f"Error: {path}: 30 errors in this file, the first {MAX_LISTED_ERRORS} listed above — fix them and run `attune check` again"


NEAR_MISSES = {
    "(pause 5s)": "(pause 5s) is in round brackets, so it will be spoken — write [pause 5s] for a marker",
    "[ pause 5s ]": "[ pause 5s ] is not a marker (spaces), so it will be spoken — write [pause 5s]",
    "[ pause 5 s ]": "[ pause 5 s ] is not a marker (spaces), so it will be spoken — write [pause 5s]",
    "[pause 5s and rest": "unclosed [ in '[pause 5s and rest now.', so it will be spoken — close it with ] on the same line for a marker such as [pause 5s], or remove the [",
    "{name and rest": "unclosed { in '{name and rest now.', so it will be spoken — close it with } for a placeholder such as {name}, write {{ for a literal brace, or remove it",
}


def test_each_near_miss_warns_with_its_line_and_strict_fails(tmp_path):
    for k, (text, warning) in enumerate(NEAR_MISSES.items()):
        path = tmp_path / f"near{k}.txt"
        path.write_text(f"---\ntitle: Near\n---\nSettle in.\nRest {text} now.\n", encoding="utf-8")
        result = invoke("check", path)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == f"Warning: {path}:5: {warning}\n"
        assert result.stdout.startswith(f"ok  {path}: 1 section")
        strict = invoke("check", path, "--strict")
        assert (strict.exit_code, strict.stdout, strict.stderr) == (1, "", f"Error: {path}:5: {warning}\n")


def test_a_bare_text_file_takes_its_title_from_its_name(tmp_path):
    from attune.script import load_script

    path = tmp_path / "morning-note.txt"
    path.write_text("Good morning. [pause 2s] Rest here.\n", encoding="utf-8")
    assert load_script(path).title == "Morning note"
    assert invoke("check", path).exit_code == 0


def test_plan_check_and_the_error_give_the_same_range(tmp_path, fake_synth, monkeypatch):
    import attune.render
    from attune.speech.engines.espeak import engine_description

    fake_synth.engine_id = engine_description()  # its clips stand where check looks for pyttsx3's (in this test's own cache)
    monkeypatch.setattr(attune.render, "shared_synthesizer", lambda name, cache_dir=None: fake_synth)
    path = tmp_path / "calm.yaml"
    path.write_text("title: Calm\nsections:\n  - text: |\n      Welcome here. [pause 2s..6s]\n      Rest now, and breathe.\n", encoding="utf-8")
    cache = tmp_path / "cache"
    planned = invoke("plan", path, "--cache-dir", cache)
    assert planned.exit_code == 0, planned.stderr
    fits = planned.stdout.splitlines()[0].split("(fits ", 1)[1].rstrip(")")
    assert fits.startswith("between ")
    checked = invoke("check", path, "--cache-dir", cache)
    assert checked.stdout.rstrip().endswith(f"fits {fits}")  # from the cached speech: no "estimate"
    failed = invoke("render", path, "--length", "5m", "-o", tmp_path / "x.wav", "--cache-dir", cache)
    assert failed.stderr == f"Error: {path}: cannot make 5m from this script — this script fits {fits}\n"
