"""What each entry point loads: numpy and scipy (about 1.5 s to import) only where audio is made."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(code: str) -> list[str]:
    probe = code + "\nimport sys\nprint(sorted(m for m in ('numpy', 'scipy', 'scipy.signal', 'pydub', 'attune.render') if m in sys.modules))"
    return eval(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)


def test_batch_parent_does_not_load_the_renderer():
    # The parent builds requests and fingerprints them; tracks render in worker processes.
    code = ("import attune.deliver, attune.request\nfrom pathlib import Path\n"
            "attune.request.request_fingerprint(attune.request.RenderRequest(Path('x.yaml')))")
    assert loaded_after(code) == []


@pytest.mark.parametrize("module", ["attune.check", "attune.cli", "attune.roster"])
def test_checking_scripts_does_not_load_scipy(module):
    assert not {"scipy", "scipy.signal", "attune.render"} & set(loaded_after(f"import {module}"))


def test_batch_preload_warms_the_renderer_and_never_raises():
    code = ("import attune.preload, attune.render as r, attune.export as e, attune.espeak as s\n"
            "print(e.encoder_gain_db.cache_info().currsize, s.find_espeak.cache_info().currsize, r._bell_lufs.cache_info().currsize)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["1", "1", "1"]
    # A forkserver dies of any exception but ImportError in a preloaded module, so none may escape.
    broken = "import attune.render as r\nr._bell_lufs = lambda: 1 / 0\nimport attune.preload\nprint('ok')"
    assert subprocess.run([sys.executable, "-c", broken], capture_output=True, text=True, check=True).stdout == "ok\n"
