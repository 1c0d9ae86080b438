"""Batch throughput: `attune batch --jobs 2` against `--jobs 1`, six five-minute tracks (speech
cached), with the CPU time the machine spent busy during each (so: how many cores each kept busy)."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

from common import ATTUNE, busy_cpu_s, row, run


def roster(work: Path) -> Path:
    path = work / "roster.yaml"
    clients = "\n".join(f"  - name: Client {i}\n    tracks:\n      - script: arriving" for i in range(6))
    path.write_text(f"practitioner: Bench\ntitle: Bench week\ndefaults: {{length: 5m, background: drone}}\nclients:\n{clients}\n")
    return path


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    if quick:
        return
    path = roster(work)
    subprocess.run([*ATTUNE, "batch", str(path), "-o", str(work / "b0"), "--jobs", "1"], env=env, check=True, capture_output=True)
    measured: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for _ in range(runs):
        for jobs in (1, 2):
            before = busy_cpu_s()
            wall = run([*ATTUNE, "batch", str(path), "-o", str(work / f"b{jobs}"), "--jobs", str(jobs), "--force"], env)[0]
            measured[jobs].append((wall, busy_cpu_s() - before))
    (one, cpu1), (two, cpu2) = ((statistics.median(w for w, _ in measured[j]), statistics.median(c for _, c in measured[j])) for j in (1, 2))
    results.update(batch_jobs1_s=one, batch_jobs2_s=two, batch_speedup=one / two, batch_jobs1_cpu_s=cpu1, batch_jobs2_cpu_s=cpu2)
    print(f"batch of 6 five-minute tracks, drone bed, speech cached ({runs} interleaved runs, medians)")
    print(row("--jobs 1", one, 1.0, f"CPU {cpu1:5.1f} s = {cpu1 / one:.2f} cores busy"))
    print(row("--jobs 2", two, one / two, f"CPU {cpu2:5.1f} s = {cpu2 / two:.2f} cores busy"))
