"""The built-in practice library (package data in src/attune/practices/): every practice checks,
plans to exactly 5, 10 and 20 minutes, speaks enough at 20 minutes, and renders to a real 5-minute
MP3 with the real engine. `attune library` lists them, and a practice renders by name from any folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from attune.cli import cli
from attune.library import PRACTICES_DIR, practices
from helpers.audio import decode, ffmpeg_ebur128, speech_spans_s, voice_ebur128

SCRIPTS = practices()
IDS = [p.name for p in SCRIPTS]
#: Rendered in every `make test`; the other practices render under the `long` marker (CI runs both),
#: which keeps `make test` under two minutes.
RENDERED_ALWAYS = {"loving-kindness.yaml", "self-compassion-break.md"}
RENDER_PARAMS = [pytest.param(p, id=p.name, marks=() if p.name in RENDERED_ALWAYS else pytest.mark.long) for p in SCRIPTS]
LENGTHS = {"5m": 300.0, "10m": 600.0, "20m": 1200.0}
TOLERANCE_S = 0.05
MIN_WORDS_AT_20M = 250


@pytest.fixture(scope="module")
def library_cache(shared_engine_cache) -> Path:
    """The run's speech cache: each sentence is synthesised once, then reused."""
    return shared_engine_cache


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, f"attune {' '.join(args)} failed:\n{result.output}"
    return result


def plan_json(script: Path, length: str, cache: Path) -> dict:
    result = run("plan", str(script), "--length", length, "--json", "--cache-dir", str(cache))
    return json.loads(result.stdout)


def spoken_words(plan: dict) -> int:
    return sum(len(e["text"].split()) for e in plan["events"] if e["kind"] == "speech")


def test_library_has_the_practices():
    names = {p.name for p in SCRIPTS}
    expected = {
        "arriving.yaml",
        "loving-kindness.yaml",
        "self-compassion-break.md",
        "just-like-me.yaml",
        "compassion-in-the-body.txt",
        "before-a-session.md",
        "being-with-pain.yaml",
    }
    assert expected <= names
    assert {p.parent for p in SCRIPTS} == {PRACTICES_DIR}
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        assert f"`{script.stem}`" in readme, f"README.md does not describe {script.stem}"


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_check(script):
    run("check", str(script))


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_plans_to_exact_lengths(script, library_cache):
    for length, seconds in LENGTHS.items():
        plan = plan_json(script, length, library_cache)
        assert abs(plan["duration_s"] - seconds) <= TOLERANCE_S, f"{script.name} at {length}: {plan['duration_s']}s"
        total = sum(e["duration_s"] for e in plan["events"])
        assert abs(total - seconds) <= TOLERANCE_S + 0.001 * len(plan["events"]), f"{script.name} at {length}: events sum to {total}s"
        if length == "20m":
            words = spoken_words(plan)
            assert words >= MIN_WORDS_AT_20M, f"{script.name} speaks only {words} words at 20m"


@pytest.mark.parametrize("script", SCRIPTS, ids=IDS)
def test_spoken_text_suits_the_synthesiser(script, library_cache):
    """No digits, brackets, parentheses, em-dashes or leftover placeholders in what is spoken."""
    plan = plan_json(script, "20m", library_cache)
    for event in plan["events"]:
        if event["kind"] == "speech":
            bad = re.findall(r"[0-9\[\]{}()<>\u2014]", event["text"])
            assert not bad, f"{script.name}: {bad} in {event['text']!r}"


@pytest.mark.engine
@pytest.mark.parametrize("script", RENDER_PARAMS)
def test_renders_five_minutes(script, tmp_path, library_cache):
    # One dense practice over a bed, as an MP3 (beds and formats are measured in their own tests);
    # the others as WAV, which costs no encoder time.
    dense = script.name == "loving-kindness.yaml"
    background = "pink-noise" if dense else "none"
    out = tmp_path / f"{script.stem}.{'mp3' if dense else 'wav'}"
    run("render", str(script), "--length", "5m", "-o", str(out), "--format", out.suffix[1:], "--background", background, "--cache-dir", str(library_cache))
    assert out.exists() and out.stat().st_size > 0
    audio, sr = decode(out)
    assert abs(len(audio) / sr - 300.0) <= TOLERANCE_S, f"{script.name} decodes to {len(audio) / sr:.3f}s"
    # A dense practice: the voice at the target, measured by ffmpeg on the speech events.
    plan = plan_json(script, "5m", library_cache)
    assert voice_ebur128(out, speech_spans_s(plan), tmp_path, audio=(audio, sr)) == pytest.approx(-16.0, abs=1.0)
    assert ffmpeg_ebur128(out)["true_peak_dbtp"] <= -1.0
