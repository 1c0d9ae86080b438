"""The batch on Dask: `attune batch --cluster local:2` against `--jobs 2` on this machine.

1. Six four-minute tracks with a drone bed (speech cached), each side run in turn (medians): wall
   time, tracks per minute, and for the cluster the CPU its whole process tree spent per track (the
   client, the workers and their ffmpeg children, from wait4's rusage).
2. The cost of a worker loss: the same cluster batch, with one worker SIGKILLed as soon as it is
   encoding a track; the extra wall time against the median without a loss.
3. The scheduler's overhead per task: 200 no-op tasks through the batch's own flow (one task in
   flight per worker thread), on a LocalCluster of 2 workers.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from common import ATTUNE, row

TRACKS = 6


def roster(work: Path) -> Path:
    path = work / "cluster-roster.yaml"
    clients = "\n".join(f"  - name: Client {i}\n    tracks:\n      - script: arriving" for i in range(TRACKS))
    path.write_text(f"practitioner: Bench\ntitle: Bench week\ndefaults: {{length: 4m, background: drone}}\nclients:\n{clients}\n")
    return path


def timed(argv: list[str], env: dict, kill_worker: bool = False) -> tuple[float, float]:
    """(wall s, CPU s of the whole process tree); with `kill_worker`, SIGKILL the first worker seen encoding."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    killed = not kill_worker
    while not killed and proc.poll() is None:
        worker = _encoding_worker(proc.pid)
        if worker is not None:
            os.kill(worker, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert proc.stderr is not None
        raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.read().decode()}")
    if not killed:
        raise SystemExit("no worker was seen encoding: the loss was not measured")
    return wall, usage.ru_utime + usage.ru_stime


def _encoding_worker(root: int) -> int | None:
    """The pid of a worker process (a descendant of `root`) whose ffmpeg child encodes into its scratch folder."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == root:
                return True
        return False

    for pid, parent in parents.items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ffmpeg" in cmdline and b"attune-track-" in cmdline and descends(pid):
            return parent
    return None


def task_overhead_ms(tasks: int = 200) -> float:
    """Milliseconds of scheduler round trip per task, with one task in flight per worker thread."""
    from distributed import wait

    from attune.delivery.cluster import connect

    with connect("local:2") as client:
        client.submit(int, 0, pure=False).result()  # workers up and connected
        threads = sum(client.nthreads().values())
        start = time.perf_counter()
        in_flight = [client.submit(int, i, pure=False) for i in range(threads)]
        submitted = threads
        while in_flight:
            done, rest = wait(in_flight, return_when="FIRST_COMPLETED")
            in_flight = list(rest)
            for _ in done:
                if submitted < tasks:
                    in_flight.append(client.submit(int, submitted, pure=False))
                    submitted += 1
        elapsed = time.perf_counter() - start
    return elapsed * threads / tasks * 1000


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    overhead_ms = task_overhead_ms()
    results["cluster_task_overhead_ms"] = overhead_ms
    print(f"scheduler round trip per task, LocalCluster of 2 workers (200 no-op tasks): {overhead_ms:.1f} ms")
    if quick:
        return
    path = roster(work)
    subprocess.run([*ATTUNE, "batch", str(path), "-o", str(work / "c0"), "--jobs", "1"], env=env, check=True, capture_output=True)  # speech cached
    sides = {
        "--jobs 2": [*ATTUNE, "batch", str(path), "-o", str(work / "cj"), "--jobs", "2", "--force"],
        "--cluster local:2": [*ATTUNE, "batch", str(path), "-o", str(work / "cc"), "--cluster", "local:2", "--force"],
    }
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, argv in sides.items():
            measured[name].append(timed(argv, env))
    loss = [timed(sides["--cluster local:2"], env, kill_worker=True)[0] for _ in range(max(1, runs // 2))]
    medians = {name: (statistics.median(w for w, _ in m), statistics.median(c for _, c in m)) for name, m in measured.items()}
    jobs_wall = medians["--jobs 2"][0]  # (its CPU is not in the rusage: the forkserver's children are not the CLI's)
    cluster_wall, cluster_cpu = medians["--cluster local:2"]
    loss_wall = statistics.median(loss)
    results.update(
        cluster_jobs2_s=jobs_wall, cluster_local2_s=cluster_wall, cluster_ratio=cluster_wall / jobs_wall,
        cluster_jobs2_tracks_per_min=TRACKS * 60 / jobs_wall, cluster_local2_tracks_per_min=TRACKS * 60 / cluster_wall,
        cluster_cpu_per_track_s=cluster_cpu / TRACKS,
        cluster_worker_loss_s=loss_wall, cluster_worker_loss_cost_s=loss_wall - cluster_wall,
    )  # fmt: skip
    print(f"batch of {TRACKS} four-minute tracks, drone bed, speech cached ({runs} interleaved runs, medians)")
    print(row("--jobs 2", jobs_wall, 1.0, f"{TRACKS * 60 / jobs_wall:5.1f} tracks/min"))
    print(
        row(
            "--cluster local:2",
            cluster_wall,
            cluster_wall / jobs_wall,
            f"{TRACKS * 60 / cluster_wall:5.1f} tracks/min, CPU {cluster_cpu / TRACKS:4.1f} s per track",
        )
    )
    print(row("--cluster local:2, a worker killed", loss_wall, loss_wall / jobs_wall, f"a worker loss costs {loss_wall - cluster_wall:+.1f} s"))
