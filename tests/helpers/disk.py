"""Faults built for real, for the fault tests: a small tmpfs that fills, a file-size limit root cannot
bypass, the CLI run under them, and what a run left on disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The one script of the fault tests (its sentences are synthesised once for the session's cache).
SCRIPT = """\
title: Evening calm
sections:
  - name: Arriving
    text: |
      Welcome. Let the body settle. [pause 2s..]
      Rest here, breathing easily.
"""


def render_here(script: Path, target: Path, length_s: float, cache: Path) -> Path:
    """A real render (the real engine) in this process, with captions: cheaper than a CLI run."""
    from attune.render import render
    from attune.request import RenderRequest
    from attune.settings import TrackSettings

    return render(RenderRequest(script, target, TrackSettings(length_s=length_s), captions=True), cache_dir=cache).output_path


def batch_here(roster: Path, out: Path, cache: Path):
    """A real batch (the real engine, one track at a time) in this process."""
    from attune.delivery.batch import BatchOptions, run_batch

    return run_batch(roster, out, BatchOptions(jobs=1, cache_dir=cache))


def attune(args: list, cwd: Path, *, fsize_bytes: int | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m attune ARGS`, with RLIMIT_FSIZE set in the child when `fsize_bytes` is given.

    Under the limit a write past it fails with EFBIG in Python (which ignores SIGXFSZ), and an
    ffmpeg child (which subprocess gives the default SIGXFSZ back) is killed by the signal: root
    is held to it like anyone else."""

    def limit() -> None:
        if fsize_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))

    return subprocess.run([sys.executable, "-m", "attune", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, preexec_fn=limit)


@contextlib.contextmanager
def tmpfs(folder: Path, size_bytes: int) -> Iterator[Path]:
    """A tmpfs of `size_bytes` mounted on `folder` (a full disk for root too); skips where this
    machine will not mount one (not root, or a container without the capability)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path, leave_bytes: int) -> Path:
    """Take all but `leave_bytes` of the file system under `folder` with one ballast file."""
    free = shutil.disk_usage(folder).free
    ballast = folder / "ballast.bin"
    with open(ballast, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(0, free - leave_bytes))
    return ballast


def leftovers(folder: Path) -> list[str]:
    """Attune's temporary files and folders, and lock files, under `folder` (relative paths)."""
    found = []
    for path in folder.rglob(".*"):
        name = path.name
        if name.endswith((".part", ".lock")) or any(mark in name for mark in (".part-", ".old-", ".gone-")):
            found.append(path.relative_to(folder).as_posix())
    return sorted(found)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (but a ballast) → its sha256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "ballast.bin"}  # fmt: skip


def manifest_matches_disk(out: Path, *, orphans_allowed: bool = False) -> dict[str, dict]:
    """The manifest's tracks (by key), after checking each file it lists is on disk with its size and
    sha256, and that every file under tracks/ is listed: nothing missing, nothing orphaned (unless
    `orphans_allowed`: a killed batch may have finished a track it had not yet listed)."""
    tracks = {t["files"]["mp3"]["path"]: t for t in json.loads((out / "manifest.json").read_text("utf-8"))["tracks"]}
    listed = set()
    for track in tracks.values():
        for file in track["files"].values():
            path = out / file["path"]
            assert path.is_file(), f"the manifest lists {file['path']}, which is not on disk"
            assert path.stat().st_size == file["bytes"] and hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"], file["path"]
            listed.add(file["path"])
    on_disk = {p.relative_to(out).as_posix() for p in (out / "tracks").rglob("*") if p.is_file()}
    assert on_disk >= listed and (orphans_allowed or on_disk == listed), f"on disk but not in the manifest: {sorted(on_disk - listed)}"
    return tracks
