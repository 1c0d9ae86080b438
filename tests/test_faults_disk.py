"""A full disk, built for real: a file-size limit (RLIMIT_FSIZE, which root is held to) and a small
tmpfs (where this machine lets the test mount one), mid-render and mid-batch.

Each fault must give one `Error:` line naming the folder and about what the files need (and what is
free), exit 1 with no traceback, leave nothing half-written (no temporary file, no lock), leave the
output rendered before intact, and a re-run with room must complete.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.audio import decode
from helpers.batch import access_of, tiny_png
from helpers.disk import SCRIPT, attune, batch_here, fill, leftovers, manifest_matches_disk, render_here, snapshot, tmpfs

pytestmark = [pytest.mark.engine, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs and RLIMIT_FSIZE as on Linux")]

LIMIT_BYTES = 64 * 1024
ERROR = re.compile(
    r"Error: (?P<folder>\S+): no space left to write (?P<what>.+?) \(needs about (?P<need>[\d.]+) MB, (?P<free>[\d.]+ [MG]B) free(?P<rest>.*)\) — .+"
)


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "practice.yaml").write_text(SCRIPT, encoding="utf-8")
    return tmp_path


def one_error(done: subprocess.CompletedProcess) -> re.Match:
    """The run failed with exit 1 and exactly one `Error:` line, of a full disk; no traceback."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    match = ERROR.fullmatch(lines[0])
    assert match, lines[0]
    return match


def test_render_over_a_file_size_limit(work, cache):
    """Mid-render: the encoder's file outgrows `ulimit -f` (ffmpeg dies of SIGXFSZ), with root held to it."""
    out = work / "out"
    target = out / "practice.mp3"
    render = ["render", work / "practice.yaml", "-o", target, "--captions", "--cache-dir", cache]
    render_here(work / "practice.yaml", target, 10.0, cache)
    before = snapshot(out)

    failed = attune([*render, "--length", "12s"], work, fsize_bytes=LIMIT_BYTES)
    error = one_error(failed)
    assert Path(error["folder"]) == out and error["what"] == "practice.mp3"
    assert 0.15 < float(error["need"]) < 0.4  # 12 s at 128 kbit/s is 0.19 MB, with tags
    assert "files are limited to 0.1 MB here (ulimit -f)" in error["rest"]
    assert leftovers(work) == [] and snapshot(out) == before  # the earlier render, byte for byte

    audio, rate = decode(render_here(work / "practice.yaml", target, 12.0, cache))
    assert audio.shape[0] == 12 * rate
    assert leftovers(work) == [] and sorted(snapshot(out)) == ["practice.mp3", "practice.vtt"]


@pytest.mark.long  # `make test-long` (CI runs it): the file-size-limit test above is the fault in `make test`
def test_render_onto_a_full_disk(work, cache):
    """A tmpfs: nearly full before the render (refused before any audio work), then filled by another
    writer while the encoder writes (the render's own write fails with ENOSPC)."""
    out = work / "out"
    with tmpfs(out, 8 * 1000 * 1000):
        target = out / "practice.mp3"
        render = ["render", work / "practice.yaml", "-o", target, "--captions", "--cache-dir", cache]
        render_here(work / "practice.yaml", target, 10.0, cache)
        before = snapshot(out)

        # Nearly full: 100 kB free for a track of about 0.5 MB.
        ballast = fill(out, 100_000)
        error = one_error(attune([*render, "--length", "30s"], work))
        assert Path(error["folder"]) == out and 0.45 < float(error["need"]) < 0.7 and error["free"] == "0.1 MB"
        assert leftovers(out) == [] and snapshot(out) == before
        ballast.unlink()

        # Room at the start; filled (by this test) once the encoder is writing its temporary file.
        proc = subprocess.Popen([sys.executable, "-m", "attune", *map(str, render), "--length", "3m"], cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 120
        while not list(out.glob(".practice.mp3.*.part")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        fill(out, 0)
        stdout, stderr = proc.communicate(timeout=120)
        error = one_error(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
        assert Path(error["folder"]) == out and 2.5 < float(error["need"]) < 3.5 and error["free"] == "0.0 MB"
        assert leftovers(out) == [] and snapshot(out) == before
        (out / "ballast.bin").unlink()

        audio, rate = decode(render_here(work / "practice.yaml", target, 20.0, cache))
        assert audio.shape[0] == 20 * rate
        assert leftovers(out) == []


ROSTER = """\
practitioner: Test Teacher
title: Evening practice
cover: cover.png
clients:
  - name: Ana
    tracks:
      - script: practice.yaml
        length: 8s
"""
MORE = """\
  - name: Bo
    tracks:
      - script: practice.yaml
        length: 20s
  - name: Cy
    tracks:
      - script: practice.yaml
        length: 8s
"""


def published_whole(out: Path, client: str) -> bool:
    """The client's public folder is there with its page, feed, zip and every track of theirs."""
    folder = out / "public" / access_of(out)[client]["token"]
    return all((folder / name).is_file() for name in ("index.html", "feed.xml", "practice.zip", "01-practice.mp3", "01-practice.vtt"))


def batch_stopped_for_space(out: Path, done: subprocess.CompletedProcess, before: dict[str, str]) -> None:
    """What a batch that ran out of room must leave: one error line naming DIR, the need and who was
    published; every client it names as published is whole; Bo (who cannot fit) is not; the manifest
    matches the files on disk; no temporary file or lock; Ana's earlier files unchanged."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and done.stderr.splitlines()[-1] == errors[0], done.stdout + done.stderr
    # (Bo's track cannot fit; onto the tmpfs Cy's cannot either, and may be the first to fail.)
    match = re.fullmatch(rf"Error: {re.escape(str(out))}: no space left to write the (\d) tracks? not rendered \(needs about ([\d.]+) MB, .*\); "
                         r"stopped at (?:Bo|Cy) / 01-practice; finished tracks are kept; published (\d) clients? whose tracks all finished \((.*)\); "
                         r"not published: (.*) — free some space .* then run the batch again: it renders only what is missing", errors[0])  # fmt: skip
    assert match, errors[0]
    published = match[4].split(", ")
    assert "Ana" in published and "Bo" not in published and "Bo" in match[5]
    assert all(published_whole(out, client) for client in published)
    assert not (out / "public" / access_of(out)["Bo"]["token"]).exists()
    assert float(match[2]) > 0.3  # Bo's 20 s at 128 kbit/s alone is 0.32 MB
    manifest_matches_disk(out)
    assert leftovers(out) == []
    now = snapshot(out)
    assert {k: now.get(k) for k in before if k.startswith(("tracks/", "public/"))} == {k: v for k, v in before.items() if k.startswith(("tracks/", "public/"))}


def rerun_completes(out: Path, roster: Path, cache: Path) -> None:
    assert not batch_here(roster, out, cache).failures
    tracks = manifest_matches_disk(out)
    assert len(tracks) == 3 and all(published_whole(out, client) for client in ("Ana", "Bo", "Cy"))
    assert leftovers(out) == []
    audio, rate = decode(out / tracks[next(k for k, t in tracks.items() if t["client"] == "Bo")]["files"]["mp3"]["path"])
    assert audio.shape[0] == 20 * rate


@pytest.mark.parametrize("fault", ["ulimit", pytest.param("tmpfs", marks=pytest.mark.long)])
def test_batch_runs_out_of_room(fault, work, cache, tmp_path):
    """Mid-batch: Ana is published; Bo's track cannot be written (over the file-size limit, or onto a
    tmpfs with 0.1 MB left); the batch stops, keeps and publishes what finished, and a re-run completes."""
    roster = work / "roster.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    (work / "cover.png").write_bytes(tiny_png())  # a flat cover: a few kB in every file, not 0.2 MB
    out = work / "deliver"
    batch = ["batch", roster, "-o", out, "--jobs", "2", "--cache-dir", cache]
    with tmpfs(out, 16 * 1000 * 1000) if fault == "tmpfs" else contextlib.nullcontext():
        assert not batch_here(roster, out, cache).failures
        before = snapshot(out)
        roster.write_text(ROSTER + MORE, encoding="utf-8")
        if fault == "ulimit":
            # Over every file Ana's publication wrote (the zip is the largest), under Bo's track.
            limit = max(f.stat().st_size for f in out.rglob("*") if f.is_file()) + 50_000
            done = attune(batch, work, fsize_bytes=limit)
        else:
            ballast = fill(out, 100_000)
            done = attune(batch, work)
            ballast.unlink()
        batch_stopped_for_space(out, done, before)
        rerun_completes(out, roster, cache)
