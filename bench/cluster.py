"""The batch on Dask: `attune batch --cluster local:2` against `--jobs 2` on this machine.

1. Twelve four-minute tracks with a drone bed (speech cached): `--jobs 2` and `--cluster local:2`
   run in turn (interleaved), each pair's ratio; the median ratio and its spread.
2. The CPU one track costs (the marginal CPU of a `--jobs 1` batch of 12 tracks over one of 2, whole
   process tree, from wait4's rusage), and from it tracks per hour for 1, 4 and 16 workers.
3. Joining a running scheduler (`dask scheduler` and a `dask worker --preload attune.delivery.preload`
   started here): `connect` and the batch's worker check, as `--cluster tcp://…` does them.
4. The cost of a worker loss: the cluster batch with one worker SIGKILLed as soon as it is encoding.
5. The scheduler's overhead per task: 200 no-op tasks through the batch's own flow.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from common import ATTUNE, row

TRACKS = 12


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


def join_s(work: Path, env: dict, joins: int = 5) -> tuple[float, list[float]]:
    """Seconds to connect to a running scheduler and check its worker, as the batch does (median, all)."""
    import socket

    from attune.delivery.cluster import check_workers, connect
    from attune.delivery.store import StoreSpec

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(ATTUNE[0]).parent / "dask")
    log = (work / "dask.log").open("w")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env=env, stdout=log, stderr=log)]
    procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--preload", "attune.delivery.preload"],
                                  env=env, stdout=log, stderr=log))  # fmt: skip
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
        times = []
        for _ in range(joins):
            start = time.perf_counter()
            with connect(address) as client:
                check_workers(client, [("pyttsx3", None, None, None)], StoreSpec("memory://bench/x"), None)
                times.append(time.perf_counter() - start)
        return statistics.median(times), times
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(30)


def bench(work: Path, env: dict, runs: int, quick: bool, results: dict) -> None:
    overhead_ms = task_overhead_ms()
    results["cluster_task_overhead_ms"] = overhead_ms
    print(f"scheduler round trip per task, LocalCluster of 2 workers (200 no-op tasks): {overhead_ms:.1f} ms")
    join, joins = join_s(work, env)
    results["cluster_join_s"] = join
    print(f"--cluster tcp://… joins a running scheduler and checks its worker: {join:.2f} s median ({min(joins):.2f}–{max(joins):.2f} s, {len(joins)} joins)")
    if quick:
        return
    path = roster(work)
    subprocess.run([*ATTUNE, "batch", str(path), "-o", str(work / "c0"), "--jobs", "1"], env=env, check=True, capture_output=True)  # speech cached
    sides = {
        "--jobs 2": [*ATTUNE, "batch", str(path), "-o", str(work / "cj"), "--jobs", "2", "--force"],
        "--cluster local:2": [*ATTUNE, "batch", str(path), "-o", str(work / "cc"), "--cluster", "local:2", "--force"],
    }
    walls: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, argv in sides.items():
            walls[name].append(timed(argv, env)[0])
    ratios = [j / c for j, c in zip(walls["--jobs 2"], walls["--cluster local:2"])]  # throughput of the cluster against the jobs
    # The CPU of one track: a --jobs 1 batch (one process and its ffmpeg children: all in wait4's
    # rusage) of all 12 tracks against one of the first 2.
    small = work / "cluster-roster-2.yaml"
    small.write_text(path.read_text().split("  - name: Client 2\n")[0])
    cpu_all = timed([*ATTUNE, "batch", str(path), "-o", str(work / "k12"), "--jobs", "1", "--force"], env)[1]
    cpu_two = timed([*ATTUNE, "batch", str(small), "-o", str(work / "k2"), "--jobs", "1", "--force"], env)[1]
    per_track = (cpu_all - cpu_two) / (TRACKS - 2)
    loss = [timed(sides["--cluster local:2"], env, kill_worker=True)[0] for _ in range(max(1, runs // 2))]
    jobs_wall, cluster_wall = statistics.median(walls["--jobs 2"]), statistics.median(walls["--cluster local:2"])
    ratio = statistics.median(ratios)
    loss_wall = statistics.median(loss)
    per_hour = {workers: workers * 3600 / per_track for workers in (1, 4, 16)}
    results.update(
        cluster_jobs2_s=jobs_wall, cluster_local2_s=cluster_wall, cluster_throughput_ratio=ratio, cluster_throughput_ratios=ratios,
        cluster_cpu_per_track_s=per_track, cluster_tracks_per_hour=per_hour,
        cluster_worker_loss_s=loss_wall, cluster_worker_loss_cost_s=loss_wall - cluster_wall,
    )  # fmt: skip
    print(f"batch of {TRACKS} four-minute tracks, drone bed, speech cached ({runs} interleaved pairs; medians)")
    print(row("--jobs 2", jobs_wall, None, f"{TRACKS * 60 / jobs_wall:5.1f} tracks/min   runs {', '.join(f'{w:.1f}' for w in walls['--jobs 2'])} s"))
    print(row("--cluster local:2", cluster_wall, None, f"{TRACKS * 60 / cluster_wall:5.1f} tracks/min   runs {', '.join(f'{w:.1f}' for w in walls['--cluster local:2'])} s"))
    print(f"  throughput of --cluster local:2 against --jobs 2: {ratio:.2f}x median (pairs {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.90x)")
    print(f"  CPU per track (--jobs 1, {TRACKS} tracks against 2): {per_track:.2f} s -> on paper, one core per worker: "
          + ", ".join(f"{w} worker{'s' if w > 1 else ''} {n:,.0f} tracks/h" for w, n in per_hour.items()))  # fmt: skip
    print(row("--cluster local:2, a worker killed", loss_wall, loss_wall / jobs_wall, f"a worker loss costs {loss_wall - cluster_wall:+.1f} s"))
