"""Shared fixtures: a fake synthesiser for unit tests, an isolated speech cache for every test.

Helpers shared by test modules live in tests/helpers/ (`helpers.audio` measures, `helpers.fakes`
stands in for the engine); no test module imports another.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Before numpy is imported, here and in every child the tests start: the suite runs one worker per core, and
#: OpenBLAS's own threads spin-wait after each call (a `make test` cost 214 CPU s with them, 196 without;
#: the render's own products are small, and `attune.audio.peak` avoids BLAS for its one large one).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from helpers.fakes import FakeSynthesizer

REPO = Path(__file__).resolve().parents[1]

#: The costly modules, in CPU seconds (ffmpeg and other children included), measured with one `pytest -n 2`
#: of the whole suite (2026-12-03); every other module costs under 3 s. They are collected first, costliest
#: first, and pytest-xdist deals the tests one at a time to whichever worker is free (the scheduler below),
#: so the run ends on short tests on both workers, not on a long module on one.
COSTLY_MODULES_S = {
    "test_sound_e2e.py": 45, "test_recording_e2e.py": 26, "test_clean.py": 19, "test_interrupt.py": 18, "test_library.py": 17,
    "test_formats_e2e.py": 12, "test_faults_batch.py": 9, "test_cluster.py": 9, "test_render.py": 9, "test_engine_contract.py": 8,
    "test_packaging.py": 7, "test_render_e2e.py": 7, "test_beds.py": 5, "test_faults_disk.py": 5, "test_voices_e2e.py": 5,
    "test_imports.py": 5, "test_podcast_rules.py": 4, "test_cli_errors.py": 4, "test_podcast_apps.py": 4, "test_other_tools.py": 3,
}  # fmt: skip
#: Modules whose tests share a costly module fixture (a take and its clean-up, one render into every format,
#: a batch, a wheel): all of a module's tests go to one worker, so the fixture is built once.
SHARED_FIXTURE_MODULES = {"test_recording_e2e.py", "test_clean.py", "test_formats_e2e.py", "test_podcast_apps.py", "test_packaging.py"}


def pytest_collection_modifyitems(config, items):
    """Costly modules first; each module's tests stay together and in order, so a module fixture is
    set up once on each worker that runs the module."""
    items.sort(key=lambda item: -COSTLY_MODULES_S.get(item.path.name, 0))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """One test at a time to the first free worker, in collection order, except that the tests of a
    SHARED_FIXTURE_MODULES module go to one worker together. (`--dist loadgroup` would do this with
    `xdist_group` marks, but pytest-xdist 3.8 marks a group by rewriting `item._nodeid`, which pytest 9
    no longer reads, so every test of a group was its own unit.)"""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module.rsplit("/", 1)[-1] in SHARED_FIXTURE_MODULES else nodeid

    config.option.loadscopereorder = False  # keep the collection order: costly modules first
    return SharedFixtureScheduling(config, log)


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
