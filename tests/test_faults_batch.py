"""Two runs into one output, and a batch killed outright, built for real.

- A second `attune batch` into a folder a running batch holds: one error naming the running batch
  (its pid, when it started), and nothing written. The same for two renders of one track.
- A batch SIGKILLed while its workers render (no handler runs; its workers notice and stop), then
  run again: every track, a manifest that matches the files on disk, no temporary file, no lock.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from attune.delivery.access_admin import rotate_client
from attune.errors import BusyError, Interrupted
from attune.render import render
from attune.request import RenderRequest
from attune.settings import TrackSettings
from attune.system.lock import Held, hold
from helpers.audio import decode
from helpers.batch import access_of, fake_render, make_project, run
from helpers.disk import SCRIPT, attune, batch_here, leftovers, manifest_matches_disk, snapshot
from helpers.fakes import FakeSynthesizer
from helpers.procs import descendants, still_running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and /proc as on Linux")

HELD_BY_US = r"\(pid {pid}, started \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\)\)"


def test_a_second_batch_into_a_held_folder_is_refused(tmp_path):
    """While this process's batch renders its first track, a real `attune batch` into the same folder
    fails at once naming this batch, and writes nothing; this batch then finishes as if alone."""
    roster = make_project(tmp_path)
    out = tmp_path / "deliver"
    seen: dict = {}

    def render_and_meet_a_second_batch(request, **kwargs):
        if not seen:
            seen["before"] = snapshot(out)
            seen["second"] = attune(["batch", roster, "-o", out, "--jobs", "1"], tmp_path)
            seen["after"] = snapshot(out)
            with pytest.raises(BusyError, match=f"another batch is writing to this folder \\(pid {os.getpid()}, "):
                rotate_client(out, "Ana")  # nor may a rotation write access.json under it
        return fake_render(request, **kwargs)

    report = run(roster, out, render_fn=render_and_meet_a_second_batch)
    second = seen["second"]
    assert second.returncode == 1 and second.stdout == ""
    pid = os.getpid()
    expected = (rf"Error: {re.escape(str(out.resolve()))}: another batch is writing to this folder {HELD_BY_US.format(pid=pid)} "
                rf"— wait for it to finish \(or stop it: kill {pid}\), then run again")  # fmt: skip
    assert re.fullmatch(expected, second.stderr.strip()), second.stderr
    assert seen["after"] == seen["before"]  # nothing written, nothing mixed
    assert report.failures and all(o.ok for o in report.outcomes if "missing" not in (o.error or ""))
    manifest_matches_disk(out)
    assert leftovers(out) == []  # the lock is gone with its batch


def test_a_second_render_of_a_track_being_rendered_is_refused(tmp_path):
    """Two renders into one output: the second fails at once naming the first (a lock on the track's
    stem, so every format, the captions and the sections are one render's); the first is unharmed."""
    script = tmp_path / "practice.yaml"
    script.write_text("title: Calm\nsections:\n  - text: |\n      Welcome. [pause 2s..]\n", encoding="utf-8")
    target = tmp_path / "out" / "practice.mp3"
    second: dict = {}

    def progress(stage: str, fraction: float) -> None:
        if stage == "encoding" and not second:
            second["run"] = attune(["render", script, "-o", target.with_suffix(".opus"), "--length", "5s"], tmp_path)
            second["parts"] = sorted(p.name for p in target.parent.iterdir())

    result = render(RenderRequest(script, target, TrackSettings(length_s=6.0), captions=True), synthesizer=FakeSynthesizer(), progress=progress)
    done = second["run"]
    assert done.returncode == 1 and done.stdout == ""
    expected = (rf"Error: {re.escape(str(target.with_suffix('.opus')))}: another render is writing this track {HELD_BY_US.format(pid=os.getpid())} "
                r"— wait for it to finish, or render to another -o")  # fmt: skip
    assert re.fullmatch(expected, done.stderr.strip()), done.stderr
    assert [name for name in second["parts"] if not name.startswith(".")] == []  # the second wrote nothing
    assert sorted(p.name for p in target.parent.iterdir()) == ["practice.mp3", "practice.vtt"]
    audio, rate = decode(result.output_path)
    assert audio.shape[0] == 6 * rate


def test_a_dead_batchs_lock_is_waited_for_while_its_workers_stop(tmp_path):
    """The batch dies but a worker sharing its lock is still unwinding: the next holder waits for the
    worker (not for ever), and then has the lock; waiting too little says who holds it and why."""
    lock = tmp_path / ".attune-batch.lock"
    holder = f"""
import os, pathlib, time
from attune.system.lock import hold
held = hold(pathlib.Path({str(lock)!r}), "batch")
held.__enter__()
if os.fork() == 0:  # a worker that shares the lock and takes half a second to stop
    time.sleep(0.5)
    os._exit(0)
os._exit(0)  # the batch itself dies at once, unlocking nothing
"""
    for wait_s in (0.1, 10.0):
        subprocess.run([sys.executable, "-c", holder], check=True, timeout=30)
        start = time.monotonic()
        if wait_s < 0.5:
            with pytest.raises(Held) as held, hold(lock, "batch", wait_for_dead_s=wait_s):
                pass
            assert "its own process is gone and its workers are stopping" in held.value.holder.describe()
            time.sleep(0.6)  # the worker of this round leaves
            continue
        with hold(lock, "batch", wait_for_dead_s=wait_s):
            assert 0.2 < time.monotonic() - start < 5.0
            assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_a_track_written_but_not_collected_is_not_left_unlisted(tmp_path):
    """The stop lands after a track's files are renamed into place but before the batch has its
    manifest entry (a worker stopped between the two): those files go with the stop, so the manifest
    and the files agree; the re-run renders the track again."""
    roster = make_project(tmp_path)
    out = tmp_path / "deliver"

    def written_then_stopped(request, **kwargs):
        result = fake_render(request, **kwargs)
        if "scan" in str(request.script_path):
            raise KeyboardInterrupt  # the files are in place; the entry never reaches the batch
        return result

    with pytest.raises(Interrupted):
        run(roster, out, render_fn=written_then_stopped)
    tracks = manifest_matches_disk(out)
    assert tracks and not any(t["track"].endswith("scan") for t in tracks.values())
    assert leftovers(out) == []
    report = run(roster, out)
    assert all(o.ok or "missing.txt" in (o.error or "") for o in report.outcomes)  # the roster names one missing script
    assert any(t["track"].endswith("scan") for t in manifest_matches_disk(out).values())


ROSTER = """\
practitioner: Test Teacher
title: Evening practice
clients:
  - {name: Ana, tracks: [{script: practice.yaml, length: 8s}]}
  - {name: Bo, tracks: [{script: practice.yaml, length: 10s}]}
  - {name: Cy, tracks: [{script: practice.yaml, length: 10s}]}
  - {name: Di, tracks: [{script: practice.yaml, length: 8s}]}
"""


@pytest.mark.engine
@pytest.mark.parametrize("group", [False, pytest.param(True, marks=pytest.mark.long)], ids=["the batch alone", "its whole process group"])
def test_a_batch_killed_outright_then_run_again(group, tmp_path, cache):
    """SIGKILL once a track is rendered and another is being encoded: to the batch alone (no handler,
    no clean-up of its own; its workers notice and stop, unwinding their renders), or to its whole
    process group (nothing unwinds: temporary files and locks stay). The re-run finds the folder
    free, removes what was left half-made and renders what is missing."""
    (tmp_path / "practice.yaml").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    out = tmp_path / "deliver"
    batch = [sys.executable, "-m", "attune", "batch", tmp_path / "roster.yaml", "-o", out, "--jobs", "2", "--cache-dir", cache]
    proc = subprocess.Popen(list(map(str, batch)), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    said: list[bytes] = []
    threading.Thread(target=lambda: said.extend(iter(proc.stderr.readline, b"")), daemon=True).start()
    children: dict[int, str] = {}
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            children.update(descendants(proc.pid))
            encoding = any(".mp3.part" in cmd and "ffmpeg" in cmd for cmd in descendants(proc.pid).values())
            if b"rendered" in b"".join(said) and encoding:
                break
            time.sleep(0.01)
        assert proc.poll() is None, b"".join(said).decode()
        children.update(descendants(proc.pid))
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()  # the batch's own process only
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 15
    while still_running(children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert still_running(children) == {}  # no worker or ffmpeg renders on unattended
    left = leftovers(out)
    assert ".attune-batch.lock" in left  # the file stays; its lock went with the processes
    if not group:  # the workers unwound: only what the batch itself was doing can be left
        assert all(p == ".attune-batch.lock" or p.startswith("public/.") for p in left), left
    manifest_matches_disk(out, orphans_allowed=True)  # what it lists is on disk, whole

    assert not batch_here(tmp_path / "roster.yaml", out, cache).failures
    tracks = manifest_matches_disk(out)
    assert sorted(t["client"] for t in tracks.values()) == ["Ana", "Bo", "Cy", "Di"]
    for client in ("Ana", "Bo", "Cy", "Di"):
        folder = out / "public" / access_of(out)[client]["token"]
        assert all((folder / name).is_file() for name in ("index.html", "feed.xml", "practice.zip", "01-practice.mp3", "01-practice.vtt")), client
    assert leftovers(out) == [] and not list(out.rglob(".*"))
    assert all(any(p.iterdir()) for p in (out / "tracks").iterdir())  # no empty (half-made) track folder
    for track in tracks.values():
        audio, rate = decode(out / track["files"]["mp3"]["path"])
        assert audio.shape[0] == round(track["length_s"] * rate)
