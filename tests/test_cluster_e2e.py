"""The batch on real Dask clusters (marker `long`): a LocalCluster of 2 worker processes (1 thread
each, no dashboard) whose workers are SIGKILLed; a real `dask scheduler` and `dask worker` on
127.0.0.1; an S3 destination on moto's server; Ctrl-C of a cluster batch, then a re-run."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from attune.cli import cli
from attune.delivery.batch import BatchOptions, run_batch
from helpers.audio import decode
from helpers.batch import SHORT_SCRIPT as SCRIPT
from helpers.batch import access_of, fake_fingerprint, make_project
from helpers.cluster import killing_render, moto_s3

#: The attune[s3] and attune[dask] extras: without them these tests skip, saying which to install.
fsspec = pytest.importorskip("fsspec", reason="the attune[s3] extra is not installed: pip install 'attune[s3]'")
pytest.importorskip("distributed", reason="the attune[dask] extra is not installed: pip install 'attune[dask]'")

pytestmark = pytest.mark.long

TESTS = Path(__file__).resolve().parent



@pytest.fixture(scope="module")
def s3_and_cluster():
    """moto's S3 server, then a LocalCluster of 2 worker processes (1 thread each, no dashboard,
    allowed-failures 1) started by `attune.delivery.cluster.connect`; the workers inherit the AWS
    variables and import the fake renderers (helpers.cluster) by name. Yields the Dask client."""
    from attune.delivery.cluster import connect

    with pytest.MonkeyPatch.context() as patch, moto_s3(patch):
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
        with connect("local:2", allowed_failures=1) as client:
            yield client


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_against_manifest(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    for track in manifest["tracks"]:
        for info in track["files"].values():
            data = (out / info["path"]).read_bytes()
            assert len(data) == info["bytes"] and sha256(data) == info["sha256"], info["path"]
    return manifest


def test_worker_loss_and_a_poison_track(tmp_path, s3_and_cluster):
    """A worker SIGKILLed mid-task: its track is rendered again elsewhere. A track that kills every
    worker it touches fails after allowed-failures tries; the rest complete; nothing temporary is left."""
    roster = make_project(tmp_path, """\
practitioner: P
title: T
clients:
  - name: Ana
    tracks:
      - script: scripts/a.txt
      - script: scripts/killer.txt
      - script: scripts/b.txt
  - name: Bo
    tracks:
      - script: scripts/poison.txt
      - script: scripts/a.txt
""")  # fmt: skip
    scripts = roster.parent / "scripts"
    flag = tmp_path / "killed-once.flag"
    (scripts / "a.txt").write_text("title: A\nBreathe.\n")
    (scripts / "b.txt").write_text("title: B\nRest.\n")
    (scripts / "killer.txt").write_text(f"title: Killer\nKILL-ONCE {flag}\nStill here.\n")
    (scripts / "poison.txt").write_text("title: Poison\nKILL-ALWAYS\n")
    out = tmp_path / "out"
    report = run_batch(roster, out, BatchOptions(cluster=s3_and_cluster), render_fn=killing_render, fingerprint_fn=fake_fingerprint)
    assert flag.exists()  # a worker really died rendering the killer track …
    outcomes = {(o.client, o.track): o for o in report.outcomes}
    assert outcomes[("Ana", "02-killer")].ok  # … and the track arrived all the same
    poison = outcomes[("Bo", "01-poison")]
    assert not poison.ok and poison.error.startswith("the worker rendering it died 2 times (allowed-failures 1)")
    assert [key for key, o in outcomes.items() if not o.ok] == [("Bo", "01-poison")]
    manifest = check_against_manifest(out)
    assert len(manifest["tracks"]) == 4
    assert not [p for p in out.rglob(".*")]  # no temporary file or folder
    assert report.published == ["Ana", "Bo"] and (out / "public" / access_of(out)["Bo"]["token"] / "02-a.mp3").is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(count, timeout=60)


def test_real_scheduler_and_worker_processes(tmp_path, cache):
    """`dask scheduler` and `dask worker` as processes on 127.0.0.1; then a worker whose Attune differs is refused."""
    (tmp_path / "short.yaml").write_text(SCRIPT)
    # 90 s: its render outlasts the batch's 0.5 s poll, so the worker is seen at work and named (a 12 s track
    # could be rendered between two polls and never be).
    (tmp_path / "roster.yaml").write_text("practitioner: P\ntitle: T\ndefaults: {length: 90s}\nclients:\n  - name: Ana\n    tracks:\n      - script: short.yaml\n")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "ATTUNE_CACHE_DIR": str(cache), "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    procs = [start([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env, tmp_path / "scheduler.log")]
    try:
        worker = [str(bin_dir / "dask"), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1", "--no-dashboard"]
        procs.append(start([*worker, "--name", "good"], env, tmp_path / "worker.log"))
        wait_for_workers(address, 1)
        out = tmp_path / "out"
        result = CliRunner().invoke(cli, ["batch", str(tmp_path / "roster.yaml"), "-o", str(out), "--cluster", address, "--base-url", "https://e.org/p/"])
        assert result.exit_code == 0, result.output
        assert "1 rendered, 0 unchanged, 0 failed" in result.stdout and "working: 127.0.0.1:" in result.stderr
        manifest = check_against_manifest(out)
        audio, rate_hz = decode(out / manifest["tracks"][0]["files"]["mp3"]["path"])
        assert audio.shape[0] / rate_hz == pytest.approx(90.0, abs=0.05)

        # A worker running another Attune would make the fingerprints lie: the batch refuses to start.
        preload = tmp_path / "other_attune.py"
        preload.write_text("import attune.version\nattune.version.__version__ = '0.0.1-other'\n")
        procs.append(start([*worker, "--name", "other", "--preload", str(preload)], env, tmp_path / "other.log"))
        wait_for_workers(address, 2)
        result = CliRunner().invoke(cli, ["batch", str(tmp_path / "roster.yaml"), "-o", str(out), "--cluster", address, "--force"])
        assert result.exit_code == 1
        assert re.fullmatch(r"Error: the worker tcp://127\.0\.0\.1:\d+ on .+ differs from this machine: attune 0\.0\.1-other \(here 0\.1\.0\) — "
                            r"install the same Attune version and speech engine on every worker \(fingerprints would not match otherwise\)",
                            result.output.splitlines()[-1]), result.output  # fmt: skip
        assert json.loads((out / "manifest.json").read_text())["tracks"] == manifest["tracks"]  # nothing was submitted
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_s3_destination_on_moto(tmp_path, s3_and_cluster):
    """The batch into s3://… on moto's server, real renders on 2 worker processes: every object is complete
    and as the manifest says, the layout is the local one, the speech store is shared, a re-run renders nothing."""
    (tmp_path / "short.yaml").write_text(SCRIPT)
    roster = tmp_path / "roster.yaml"
    roster.write_text(
        "practitioner: P\ntitle: T\ndefaults: {length: 10s}\nclients:\n  - name: Ana\n    tracks:\n      - script: short.yaml\n"
        "      - script: short.yaml\n        length: 12s\n  - name: Bo\n    tracks:\n      - script: short.yaml\n"
    )
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("bucket")
    node_cache = tmp_path / "node-cache"  # empty: the workers synthesise, and fill the shared store

    def batch():
        return run_batch(roster, "s3://bucket/deliver", BatchOptions(cluster=s3_and_cluster, base_url="https://cdn.example.org/p/", cache_url="s3://bucket/speech", cache_dir=node_cache))  # fmt: skip

    report = batch()
    assert (len(report.rendered), len(report.failures), report.out_dir) == (3, 0, "s3://bucket/deliver"), report.failures
    fs.invalidate_cache()
    names = sorted(name.removeprefix("bucket/deliver/") for name in fs.find("bucket/deliver"))
    manifest = json.loads(fs.cat_file("bucket/deliver/manifest.json"))
    for track in manifest["tracks"]:
        for info in track["files"].values():
            data = fs.cat_file(f"bucket/deliver/{info['path']}")
            assert len(data) == info["bytes"] and sha256(data) == info["sha256"]
    assert not [n for n in names if n.endswith(".part") or "/." in n]
    access = {c["name"]: c for c in json.loads(fs.cat_file("bucket/deliver/access.json"))["clients"]}
    ana = f"public/{access['Ana']['token']}/"
    assert {"access.json", "links.csv", "manifest.json", "public/robots.txt", "public/index.html", ana + "feed.xml", ana + "practice.zip"} <= set(names)
    # Each track file is one object, in the public folder, where the manifest points (no tracks/ copy).
    assert not [n for n in names if n.startswith("tracks/")] and len([n for n in names if n.endswith(".mp3")]) == 3
    assert f"{ana}01-short.mp3" in {info["path"] for track in manifest["tracks"] for info in track["files"].values()}
    local = tmp_path / "first.mp3"
    local.write_bytes(fs.cat_file(f"bucket/deliver/{ana}02-short.mp3"))
    audio, rate_hz = decode(local)
    assert audio.shape[0] / rate_hz == pytest.approx(12.0, abs=0.05)
    speech = sorted(fs.find("bucket/speech"))
    assert speech and all(re.fullmatch(r"bucket/speech/[0-9a-f]{12}/([0-9a-f]{2})/\1[0-9a-f]{62}\.npy", s) for s in speech)

    again = batch()
    assert (len(again.rendered), len(again.skipped)) == (0, 3)


def encoding_in_scratch(root: int) -> bool:
    """A descendant of `root` is an ffmpeg encoding into a worker's scratch folder (a track in progress)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, found = [root], []
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    for pid in found:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "ffmpeg" in cmdline and "attune-track-" in cmdline:
            return True
    return False


def test_ctrl_c_of_a_cluster_batch_then_a_re_run(tmp_path, cache):
    (tmp_path / "short.yaml").write_text(SCRIPT)
    (tmp_path / "roster.yaml").write_text(
        "practitioner: P\ntitle: T\nclients:\n  - name: Ana\n    tracks:\n      - script: short.yaml\n        length: 8s\n"
        "  - name: Bo\n    tracks:\n      - script: short.yaml\n        length: 90s\n"
    )
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "attune", "batch", str(tmp_path / "roster.yaml"), "-o", str(out), "--cluster", "local:2", "--cache-dir", str(cache)]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    said: list[bytes] = []
    reader = threading.Thread(target=lambda: said.extend(iter(proc.stderr.readline, b"")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        # Ana's track is finished when the batch has said so (its file appears a moment before the
        # batch has collected it), and Bo's is being encoded.
        while b"Ana / 01-short: rendered" not in b"".join(said) or not encoding_in_scratch(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, b"".join(said)
            time.sleep(0.05)
        # Ctrl-C, as a terminal sends it (the whole group).
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(timeout=10)
        stderr = b"".join(said)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr.decode()
    assert stderr.decode().splitlines()[-1].startswith("Error: interrupted — "), stderr.decode()
    assert not [p for p in out.rglob(".*")]  # no temporary file or folder
    manifest = check_against_manifest(out)
    assert [t["client"] for t in manifest["tracks"]] == ["Ana"]

    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "1 rendered, 1 unchanged, 0 failed" in result.stdout
    manifest = check_against_manifest(out)
    audio, rate_hz = decode(out / manifest["tracks"][1]["files"]["mp3"]["path"])
    assert audio.shape[0] / rate_hz == pytest.approx(90.0, abs=0.05)
