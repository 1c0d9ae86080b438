"""Shared fixtures: a fake synthesiser for unit tests, an isolated speech cache for every test.

Helpers shared by test modules live in tests/helpers/ (`helpers.audio` measures, `helpers.fakes`
stands in for the engine); no test module imports another.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.fakes import FakeSynthesizer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (the practice library is in repo / "scripts")."""
    return REPO


@pytest.fixture
def fake_synth() -> FakeSynthesizer:
    return FakeSynthesizer()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own speech cache unless it passes one explicitly."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ATTUNE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def shared_engine_cache(tmp_path_factory) -> Path:
    """One real-engine speech cache shared by the end-to-end tests (speech is slow to repeat).

    Under pytest-xdist every worker uses the same folder: the cache is content-addressed and written
    atomically, so workers that synthesise the same sentence at once both write the same clip, and
    each sentence is otherwise synthesised once for the whole run."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        folder = base.parent / "engine-cache"
        folder.mkdir(exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture
def cache(shared_engine_cache) -> Path:
    """The session's real-engine speech cache, for tests that pass it as --cache-dir."""
    return shared_engine_cache


@pytest.fixture
def read_only_dir(tmp_path):
    """An existing folder nobody can write to, root included: a read-only tmpfs mounted on it, else
    the immutable attribute (chattr +i), else (not root) mode 0555. Root bypasses permission bits, so
    a chmod alone would test nothing under CI, which runs as root."""
    import shutil
    import subprocess

    folder = tmp_path / "read-only"
    folder.mkdir()
    undo = None
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    elif subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0:
        undo = ["umount", str(folder)]
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        undo = ["chattr", "-i", str(folder)]
    else:
        pytest.skip("no way to make a folder read-only for root here (no mount, no chattr)")
    try:
        probe = folder / "probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip(f"{folder} is still writable after {undo[0]}")
        yield folder
    finally:
        subprocess.run(undo, capture_output=True)
