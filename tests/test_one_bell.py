"""One bell where one is meant (a `[bell]` at the script's edge plus `bells:` or `--bells` rings once,
with a warning at its line), and a file's warnings printed beside its errors, in one run."""

from __future__ import annotations

import pytest

from attune.plan import estimated_plan
from helpers.audio import bell_strikes, decode_mono
from helpers.cli import invoke
from helpers.scripts import parse

CLOSING_BELL = "title: T\nbells: {start: true, end: true}\nsections:\n  - text: |\n      Welcome.\n      Goodbye. [bell]\n"


def kinds(plan) -> list[str]:
    return [e.kind for e in plan.events if e.kind != "pause"]


def test_an_edge_bell_asked_twice_is_one_bell():
    plan = estimated_plan(parse(CLOSING_BELL), 140)
    assert kinds(plan) == ["bell", "speech", "bell"]
    assert plan.doubled_bells == ((6, "end"),)
    opening = parse("title: T\nsections:\n  - text: |\n      [bell] Welcome. [bell]\n")
    plan = estimated_plan(opening, 140, bells=(True, True))
    assert kinds(plan) == ["bell", "speech", "bell"]
    assert plan.doubled_bells == ((4, "start"), (4, "end"))
    # Two [bell]s written on purpose are two strikes; a bell not at the edge is its own.
    twice = parse("title: T\nsections:\n  - text: Welcome. [bell] [bell] Goodbye.\n")
    assert kinds(estimated_plan(twice, 140, bells=(False, True))) == ["speech", "bell", "bell", "speech", "bell"]


def test_check_warns_at_the_bells_line(tmp_path):
    path = tmp_path / "close.yaml"
    path.write_text(CLOSING_BELL, encoding="utf-8")
    warning = (
        f"{path}:6: [bell] here and the closing bell (bells: {{end: true}} or --bells) are at the same point, so one bell rings"
        " — remove this [bell], or turn the closing bell off"
    )
    result = invoke("check", path)
    assert result.exit_code == 0 and result.stderr == f"Warning: {warning}\n"
    assert "2 bells" in result.stdout
    assert invoke("check", path, "--strict").exit_code == 1


def test_a_files_warnings_are_printed_beside_its_error(tmp_path):
    path = tmp_path / "both.txt"
    path.write_text("---\ntitle: T\n---\nSettle in (pause 5s) now.\nRest [paws 5s].\n", encoding="utf-8")
    expected = [
        f"Error: {path}:5: unknown marker [paws 5s] — did you mean [pause 5s]?",
        f"Warning: {path}:4: (pause 5s) is in round brackets, so it will be spoken — write [pause 5s] for a marker",
    ]
    for result in (invoke("check", path), invoke("render", path, "-o", tmp_path / "x.mp3")):
        lines = result.stderr.splitlines()
        assert result.exit_code == 1 and result.stdout == ""
        assert len(lines) == 2 and lines[0].startswith(expected[0]) and lines[1] == expected[1]
    assert not (tmp_path / "x.mp3").exists()
    strict = invoke("check", path, "--strict").stderr.splitlines()
    assert strict[1] == expected[1].replace("Warning:", "Error:")


@pytest.mark.engine
def test_a_doubled_bell_rings_once_in_the_file(tmp_path, shared_engine_cache):
    """Decoded and counted: `bells: {start, end}` and a closing `[bell]` ring two strikes, not three;
    `--bells` over a script that starts and ends with `[bell]` rings two, not four."""
    path = tmp_path / "close.yaml"
    path.write_text(CLOSING_BELL, encoding="utf-8")
    out = tmp_path / "close.mp3"
    result = invoke("render", path, "-o", out, "--cache-dir", shared_engine_cache)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"Warning: {path}:6: [bell] here and the closing bell")
    assert [kind for _, kind in bell_strikes(decode_mono(out, 2000), 2000)] == ["bell", "bell"]

    edges = tmp_path / "edges.txt"
    edges.write_text("[bell] Welcome. [bell]\n", encoding="utf-8")
    out = tmp_path / "edges.mp3"
    result = invoke("render", edges, "-o", out, "--bells", "--cache-dir", shared_engine_cache)
    assert result.exit_code == 0, result.stderr
    assert len(result.stderr.splitlines()) == 2  # the opening and the closing bell, each warned once
    strikes = bell_strikes(decode_mono(out, 2000), 2000)
    assert len(strikes) == 2 and strikes[0][0] == 0.0
