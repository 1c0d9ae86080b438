"""What every benchmark shares: running a command and measuring it, the generated inputs, printing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ATTUNE = [str(BIN / "attune")]

WORDS = [
    "gentle",
    "breath",
    "settle",
    "notice",
    "warmth",
    "quiet",
    "body",
    "ease",
    "soften",
    "rest",
    "kindness",
    "moment",
    "heart",
    "steady",
    "allow",
    "return",
    "simply",
    "present",
    "open",
    "calm",
    "space",
    "feeling",
    "light",
    "ground",
    "slowly",
    "here",
]


def long_script(path: Path, passages: int = 56) -> Path:
    """A generated script: `passages` speech passages of two or three sentences, fixed pauses between."""
    lines = ["title: Benchmark practice", "sections:"]
    for s in range(4):
        lines += [f"  - name: Part {s + 1}", "    text: |"]
        for p in range(passages // 4):
            i = s * (passages // 4) + p
            sentences = []
            for k in range(2 + i % 2):
                words = [WORDS[(i * 7 + k * 5 + j * 3) % len(WORDS)] for j in range(9 + (i + k) % 5)]
                sentences.append(" ".join(words).capitalize() + ".")
            lines.append("      " + " ".join(sentences) + f" [pause {8 + i % 5}s]")
    lines[-1] = lines[-1].rsplit(" [pause", 1)[0] + " [pause 5s..]"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of the process itself)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    returncode = os.waitstatus_to_exitcode(status)
    if returncode != 0:
        assert proc.stderr is not None
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def interleaved(commands: dict[str, list[str]], runs: int, env: dict | None = None) -> dict[str, float]:
    """Median wall time of each command, the commands run in turn `runs` times (the machine drifts)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(run(argv, env)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (Linux /proc/stat; NaN elsewhere). Counts every
    process, workers and ffmpeg included, so it needs an otherwise quiet machine."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def ffmpeg() -> str:
    from attune.system.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def row(label: str, seconds: float, ratio: float | None = None, note: str = "") -> str:
    ratio_text = f"   {ratio:.2f}x" if ratio is not None else ""
    return f"  {label:<34}{seconds:8.2f} s{ratio_text}{('   ' + note) if note else ''}"


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process and every child it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert proc.stderr is not None
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime
