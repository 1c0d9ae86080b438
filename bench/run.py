"""Attune's benchmark: `make bench`. Builds its own inputs, runs every comparison side by side, prints ratios.

1. Render time: a 23-minute script of 56 speech passages with fixed pauses, rendered with a drone
   bed and loudness normalisation (speech cached, as on any re-render), against a bare ffmpeg MP3
   encode of the same 23 minutes of stereo 44.1 kHz audio at the same bitrate. Interleaved runs,
   medians compared. Target: <= 1.25x.
2. Cold render: the same with an empty speech cache (reported, no target).
3. Peak RSS of the 23-minute render and of a 3-hour sleep track (open-ended pause, brown noise).
   Target: <= 400 MiB each, and flat in track length.
4. Warm re-render with another length and background: sentences synthesised (target: 0).
5. Batch throughput: `attune batch --jobs 2` against `--jobs 1`, with the CPU time the machine spent
   busy during each (so: how many cores each kept busy). Target: >= 1.7x.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ATTUNE = [str(BIN / "attune")]

WORDS = ("gentle breath settle notice warmth quiet body ease soften rest kindness moment heart steady "
         "allow return simply present open calm space feeling light ground slowly here").split()


def long_script(path: Path, passages: int = 56) -> None:
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


def sleep_script(path: Path) -> None:
    path.write_text("title: Sleep\nsections:\n  - name: Sleep\n    text: |\n"
                    "      Let the day go. [pause 5s] Rest now, and sleep well. [pause 10s..]\n")


def run(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of the process itself)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (Linux /proc/stat; NaN elsewhere). Counts every
    process, the batch's workers and ffmpeg included, so it needs an otherwise quiet machine."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, idle, iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def ffmpeg() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from attune.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each side (medians compared)")
    parser.add_argument("--quick", action="store_true", help="skip the 3-hour track and the batch")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="attune-bench-"))
    cache = work / "cache"
    env = dict(os.environ, ATTUNE_CACHE_DIR=str(cache))
    results: dict[str, object] = {}
    try:
        script = work / "long.yaml"
        long_script(script)
        track = work / "long.mp3"
        cold, cold_rss = run(ATTUNE + ["render", str(script), "--length", "23m", "--background", "drone", "-o", str(track)], env)
        wav = work / "long.wav"
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(track), str(wav)], check=True)
        bare_argv = [ffmpeg(), "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k", str(work / "bare.mp3")]
        render_argv = ATTUNE + ["render", str(script), "--length", "23m", "--background", "drone", "-o", str(track)]
        bare_times, render_times, rss = [], [], []
        for _ in range(args.runs):
            bare_times.append(run(bare_argv)[0])
            wall, peak = run(render_argv, env)
            render_times.append(wall)
            rss.append(peak)
        bare, warm = statistics.median(bare_times), statistics.median(render_times)
        results.update(bare_encode_s=bare, render_s=warm, render_ratio=warm / bare, cold_render_s=cold,
                       cold_ratio=cold / bare, render_peak_rss_mib=max(rss + [cold_rss]))
        print(f"23-minute track, drone bed, loudness normalised ({args.runs} interleaved runs, medians)")
        print(f"  bare ffmpeg MP3 encode, 128k     {bare:7.2f} s   1.00x")
        print(f"  attune render (speech cached)     {warm:7.2f} s   {warm / bare:.2f}x   (target <= 1.25x)")
        print(f"  attune render (empty cache)       {cold:7.2f} s   {cold / bare:.2f}x")
        print(f"  peak RSS of attune render         {max(rss + [cold_rss]):7.0f} MiB       (target <= 400 MiB)")

        out = subprocess.run(ATTUNE + ["render", str(script), "--length", "25m", "--background", "pink-noise", "-o", str(work / "re.mp3")],
                             env=env, capture_output=True, text=True, check=True).stdout.strip()
        results["rerender_output"] = out
        print(f"  re-render, 25m with pink noise:   {out.split('(')[-1].rstrip(')')}")

        if not args.quick:
            sleep = work / "sleep.yaml"
            sleep_script(sleep)
            wall, peak = run(ATTUNE + ["render", str(sleep), "--length", "3h", "--background", "brown-noise", "-o", str(work / "sleep.mp3")], env)
            results.update(sleep_3h_s=wall, sleep_3h_peak_rss_mib=peak)
            print("3-hour sleep track, brown-noise bed")
            print(f"  attune render                     {wall:7.2f} s")
            print(f"  peak RSS                          {peak:7.0f} MiB       (target <= 400 MiB)")

            roster = work / "roster.yaml"
            clients = "\n".join(f"  - name: Client {i}\n    tracks:\n      - script: arriving" for i in range(6))
            roster.write_text(f"practitioner: Bench\ntitle: Bench week\ndefaults: {{length: 5m, background: drone}}\nclients:\n{clients}\n")
            subprocess.run(ATTUNE + ["batch", str(roster), "-o", str(work / "b0"), "--jobs", "1"], env=env, check=True, capture_output=True)  # speech cached
            runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
            for _ in range(args.runs):
                for jobs in (1, 2):
                    before = busy_cpu_s()
                    wall = run(ATTUNE + ["batch", str(roster), "-o", str(work / f"b{jobs}"), "--jobs", str(jobs), "--force"], env)[0]
                    runs[jobs].append((wall, busy_cpu_s() - before))
            (one, cpu1), (two, cpu2) = ((statistics.median(w for w, _ in runs[j]), statistics.median(c for _, c in runs[j])) for j in (1, 2))
            results.update(batch_jobs1_s=one, batch_jobs2_s=two, batch_speedup=one / two, batch_jobs1_cpu_s=cpu1, batch_jobs2_cpu_s=cpu2,
                           batch_jobs1_runs_s=[w for w, _ in runs[1]], batch_jobs2_runs_s=[w for w, _ in runs[2]])
            print(f"batch of 6 five-minute tracks, drone bed, speech cached ({args.runs} interleaved runs, medians)")
            print(f"  --jobs 1                          {one:7.2f} s   1.00x                 CPU {cpu1:5.1f} s = {cpu1 / one:.2f} cores busy")
            print(f"  --jobs 2                          {two:7.2f} s   {one / two:.2f}x throughput   CPU {cpu2:5.1f} s = {cpu2 / two:.2f} cores busy   (target >= 1.7x)")
        (ROOT / "bench" / "out").mkdir(exist_ok=True)
        (ROOT / "bench" / "out" / "results.json").write_text(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
