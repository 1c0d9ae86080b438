"""End to end with the real engine (pyttsx3 + espeak-ng) and real MP3s, decoded and measured."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from attune.cli import cli
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from helpers.audio import decode, ffmpeg_ebur128

pytestmark = pytest.mark.engine

SCRIPT = """\
title: Test practice
author: Test Author
description: A short practice used by the tests.
vars: {name: friend}
sections:
  - name: Opening
    text: |
      Welcome, {name}. Let yourself arrive.
      [pause 2s]
      Notice the breath. <break time="1500ms"/> Just as it is.
  - name: Middle
    text: |
      [bell]
      Rest here for a while. [pause 3s..1m]
      [breath]
      Nothing to fix.
  - name: Extra
    optional: true
    text: |
      An optional thought, [pause 2s] gently.
  - name: Closing
    text: |
      When you are ready, come back. [pause 1s..20s]
"""


@pytest.fixture
def script_file(tmp_path) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(SCRIPT)
    return path


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


def window(audio, sr, a_s, b_s, margin_s=0.06):
    return audio[int((a_s + margin_s) * sr) : int((b_s - margin_s) * sr)]


def test_render_exact_length_silent_pauses_audible_speech(script_file, tmp_path, shared_engine_cache):
    out = tmp_path / "out.mp3"
    result = render(
        RenderRequest(script_file, out, settings=TrackSettings(length_s=45.0, background="none", vars={"name": "Ana"}), captions=True),
        cache_dir=shared_engine_cache,
    )
    audio, sr = decode(out)
    assert sr == 44100 and audio.shape[1] == 2
    assert abs(audio.shape[0] / sr - 45.0) < 0.05
    assert result.duration_s == pytest.approx(45.0, abs=1e-6)
    events = result.plan.events
    assert [e.kind for e in events].count("bell") == 1
    for e in events:
        piece = window(audio, sr, e.start_s, e.start_s + e.duration_s)
        if e.kind == "pause" and e.duration_s > 0.3 and not _after_bell(events, e):
            assert rms_db(piece) < -60, f"pause at {e.start_s:.2f}s is not silent"
        if e.kind == "speech":
            assert rms_db(piece) > -35, f"speech at {e.start_s:.2f}s is not audible"
    assert "Welcome, Ana." in result.transcript
    assert result.captions_path.read_text("utf-8").startswith("WEBVTT")
    loud = ffmpeg_ebur128(out)
    assert loud["integrated_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert loud["true_peak_dbtp"] <= -1.0


def _after_bell(events, pause):
    """A pause right after a bell still holds the bell's ring-out tail."""
    i = events.index(pause)
    return i > 0 and events[i - 1].kind == "bell"


def test_plan_json_matches_render_to_the_millisecond(script_file, tmp_path, shared_engine_cache):
    runner = CliRunner()
    res = runner.invoke(cli, ["plan", str(script_file), "--length", "40s", "--json", "--cache-dir", str(shared_engine_cache)])
    assert res.exit_code == 0, res.output
    planned = json.loads(res.stdout)
    result = render(RenderRequest(script_file, tmp_path / "o.mp3", settings=TrackSettings(length_s=40.0, background="none")), cache_dir=shared_engine_cache)
    assert planned == result.plan.to_json()
    assert planned["duration_s"] == 40.0
    assert planned["max_s"] is not None and planned["min_s"] < 40.0


def test_rerender_with_other_length_and_background_does_no_synthesis(script_file, tmp_path):
    cache = tmp_path / "cache"
    first = render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(length_s=40.0, background="none")), cache_dir=cache)
    assert first.synthesized > 0
    second = render(RenderRequest(script_file, tmp_path / "b.mp3", settings=TrackSettings(length_s=55.0, background="drone")), cache_dir=cache)
    assert second.synthesized == 0
    audio, sr = decode(tmp_path / "b.mp3")
    assert abs(audio.shape[0] / sr - 55.0) < 0.05


def test_optional_section_dropped_when_short(script_file, tmp_path, shared_engine_cache):
    full = render(RenderRequest(script_file, tmp_path / "a.mp3", settings=TrackSettings(length_s=60.0)), cache_dir=shared_engine_cache)
    assert "Extra" in {e.section for e in full.plan.events}
    short_s = full.plan.min_s + 0.5
    short = render(RenderRequest(script_file, tmp_path / "b.mp3", settings=TrackSettings(length_s=short_s)), cache_dir=shared_engine_cache)
    assert short.plan.dropped_sections == ("Extra",)
    audio, sr = decode(tmp_path / "b.mp3")
    assert abs(audio.shape[0] / sr - short_s) < 0.05


def test_cli_render_wav_and_voice_options(script_file, tmp_path, shared_engine_cache):
    out = tmp_path / "x.wav"
    res = CliRunner().invoke(
        cli,
        [
            "render",
            str(script_file),
            "-o",
            str(out),
            "--format",
            "wav",
            "--length",
            "35s",
            "--voice",
            "en-us+f3",
            "--rate",
            "160",
            "--pitch",
            "60",
            "--var",
            "name=Bo",
            "--cache-dir",
            str(shared_engine_cache),
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"{out}  35s  voice -16.0 LUFS  track ")
    audio, sr = decode(out)
    assert abs(audio.shape[0] / sr - 35.0) < 0.002


@pytest.mark.parametrize(
    "suffix, body",
    [
        (
            ".md",
            """\
        ---
        author: Someone
        ---
        # Markdown practice

        ## Arriving
        Hello, and welcome. [pause 2s]
        <!-- a note for the teacher, not spoken -->
        ## Resting (optional)
        Rest now. [pause 2s..30s]
        """,
        ),
        (
            ".txt",
            """\
        ---
        title: Plain practice
        ---
        Hello there. [breath 2] Goodbye for now. [pause 1s..]
        """,
        ),
    ],
)
def test_markdown_and_text_scripts_render(tmp_path, shared_engine_cache, suffix, body):
    path = tmp_path / f"p{suffix}"
    path.write_text(textwrap.dedent(body))
    result = render(RenderRequest(path, tmp_path / "p.mp3", settings=TrackSettings(length_s=25.0)), cache_dir=shared_engine_cache)
    audio, sr = decode(tmp_path / "p.mp3")
    assert abs(audio.shape[0] / sr - 25.0) < 0.05
    assert "not spoken" not in result.transcript
