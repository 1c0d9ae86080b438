"""attune.delivery.pool: worker processes from a preloaded forkserver, longest first, stopped cleanly."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from attune.errors import AttuneError, Interrupted
from helpers.batch import ROSTER, calls, make_project, run, sha256


def test_jobs_2_renders_in_worker_processes(tmp_path):
    roster = make_project(tmp_path)
    out = tmp_path / "out"
    seen = []
    report = run(roster, out, jobs=2, progress=lambda p: seen.append(p.done) if p.event in ("start", "rendered", "failed") else None)
    assert [o.ok for o in report.outcomes] == [True, True, True, False, True]
    assert seen == [1, 2, 3, 4, 5]
    manifest = json.loads(report.manifest_path.read_text())
    assert len(manifest["tracks"]) == 4
    for track in manifest["tracks"]:
        mp3 = track["files"]["mp3"]
        assert sha256(out / mp3["path"]) == mp3["sha256"]
    pids = {line.split()[0] for line in calls(roster)}
    assert str(os.getpid()) not in pids and 1 <= len(pids) <= 2


def test_pool_gets_the_longest_tracks_first(tmp_path, monkeypatch):
    from attune.delivery.process_pool import WorkerPool

    roster = make_project(
        tmp_path,
        ROSTER.replace("length: 2s", "length: 3s").replace("      - script: scripts/missing.txt\n", "      - script: scripts/scan.txt\n        length: 2s\n"),
    )
    submitted = []
    real_submit = WorkerPool.submit

    def recording_submit(self, job, tag):
        submitted.append(job.request.settings.length_s)
        real_submit(self, job, tag)

    monkeypatch.setattr(WorkerPool, "submit", recording_submit)
    report = run(roster, tmp_path / "out", jobs=2)
    assert all(o.ok for o in report.outcomes)
    assert submitted == [3.0, 2.0, 1.0, 1.0, 1.0]  # ties keep roster order
    assert [o.track for o in report.outcomes][:2] == ["01-loving-kindness", "02-evening-scan"]  # reported in roster order


def test_workers_use_the_callers_cache_dir_of_now(tmp_path, monkeypatch):
    # Workers fork from a server started by an earlier batch, with that moment's environment:
    # the cache folder must come from the caller, now.
    roster = make_project(tmp_path)
    for name in ("first", "second"):
        monkeypatch.setenv("ATTUNE_CACHE_DIR", str(tmp_path / name))
        run(roster, tmp_path / "out", jobs=2, force=True)
        assert {line.split()[2] for line in calls(roster)} == {str(tmp_path / name)}
        (roster.parent / "scripts" / "calls.log").unlink()


def test_workers_that_cannot_start_are_one_clear_error(tmp_path, monkeypatch):
    import concurrent.futures

    def broken_submit(self, fn, *args, **kwargs):
        raise EOFError("unexpected EOF")  # what a dead forkserver gives

    monkeypatch.setattr(concurrent.futures.ProcessPoolExecutor, "submit", broken_submit)
    roster = make_project(tmp_path)
    with pytest.raises(AttuneError) as err:
        run(roster, tmp_path / "out", jobs=2)
    assert str(err.value) == "could not start 2 worker processes (EOFError: unexpected EOF) — render with --jobs 1, and run `attune doctor`"
    out = tmp_path / "out"
    assert not list(out.rglob("*.mp3")) and not list(out.rglob(".*.part")) and list((out / "tracks").iterdir()) == []


def test_workers_fork_from_a_preloaded_server_where_possible():
    from attune.delivery import process_pool as pool

    context = pool.pool_context()
    if sys.platform.startswith("linux"):
        assert context.get_start_method() == "forkserver"
        assert pool.WORKER_PRELOAD == ["attune.delivery.preload"]
    else:
        assert context.get_start_method() in ("forkserver", "spawn")


def test_interrupt_cancels_queued_work_and_keeps_finished_tracks(tmp_path):
    tracks = "".join(f"      - {{script: scripts/slow.txt, title: Slow {n}}}\n" for n in range(8))
    roster = make_project(tmp_path, f"practitioner: Kim\nclients:\n  - name: Bo\n    tracks:\n{tracks}")
    (roster.parent / "scripts" / "slow.txt").write_text("title: Slow\nSLOW\n")
    (roster.parent / "scripts" / "slow.flag").touch()
    out = tmp_path / "out"

    def interrupt(p):
        if p.event == "rendered":
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as err:
        run(roster, out, jobs=2, progress=interrupt)
    assert str(err.value) == "interrupted — published no client; not published: Bo — a re-run completes them; no partial file was left"
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["tracks"]) == 1  # the track that finished is recorded
    assert sorted(p.name for p in (out / "public").iterdir()) == ["index.html", "robots.txt"]
    # The tracks already handed to the two workers finish on their own; wait for that (bounded).
    deadline, seen, quiet = time.monotonic() + 15, -1, 0
    while time.monotonic() < deadline and quiet < 3:
        now = len(calls(roster))
        quiet = quiet + 1 if now == seen and not list(out.rglob("*.part")) else 0
        seen = now
        time.sleep(0.25)
    assert len(calls(roster)) < 8  # queued tracks were cancelled, never rendered
    (roster.parent / "scripts" / "slow.flag").unlink()
    again = run(roster, out)
    assert sum(o.skipped for o in again.outcomes) >= 1 and all(o.ok for o in again.outcomes)
