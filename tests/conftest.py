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
