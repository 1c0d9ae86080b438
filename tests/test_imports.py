"""What each entry point loads: numpy and scipy (about 1.5 s to import) only where audio is made."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "scipy", "scipy.signal", "pydub", "attune.render")


def loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    return eval(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)


def test_batch_parent_does_not_load_the_renderer(tmp_path):
    # The parent builds requests and fingerprints them (which reads the script and looks up its
    # sound files); tracks render in worker processes.
    script = tmp_path / "x.yaml"
    script.write_text("title: X\nbackground: soft-rain.ogg\nsections: [{text: hi}]\n")
    code = (
        "import attune.delivery.batch, attune.request\nfrom pathlib import Path\n"
        f"attune.request.request_fingerprint(attune.request.RenderRequest(Path({str(script)!r})))"
    )
    assert loaded_after(code) == []


@pytest.mark.parametrize("module", ["attune.checks.script", "attune.cli", "attune.delivery.roster", "attune.settings", "attune.audio.background"])
def test_checking_scripts_does_not_load_numpy(module):
    assert not {"numpy", "scipy", "scipy.signal", "attune.render"} & set(loaded_after(f"import {module}"))


def test_check_is_quick(tmp_path, repo):
    # `attune check` answers in well under half a second (import and parse); measured here as the
    # modules it loads, the way to keep it quick: no numpy, no scipy.
    script = tmp_path / "a.yaml"
    script.write_text("title: A\nsections: [{text: 'Hello there. [pause 2s]'}]\n")
    code = f"from click.testing import CliRunner\nfrom attune.cli import cli\nassert CliRunner().invoke(cli, ['check', {str(script)!r}]).exit_code == 0"
    assert loaded_after(code) == []


def test_batch_preload_warms_the_renderer_and_never_raises():
    code = (
        "import sys, attune.delivery.preload, attune.render as r, attune.media.encode as e, attune.speech.engines.espeak as s\n"
        "print(e.encoder_gain_db.cache_info().currsize, s.find_espeak.cache_info().currsize, r._bell_lufs.cache_info().currsize)\n"
        "print(sorted(m for m in ('onnxruntime', 'piper') if m in sys.modules))"
    )
    # ... and never onnxruntime: Piper's models load in its speech workers only.
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["1", "1", "1", "[]"]
    # A forkserver dies of any exception but ImportError in a preloaded module, so none may escape.
    broken = "import attune.render as r\nr._bell_lufs = lambda: 1 / 0\nimport attune.delivery.preload\nprint('ok')"
    assert subprocess.run([sys.executable, "-c", broken], capture_output=True, text=True, check=True).stdout == "ok\n"


def test_only_the_cli_imports_click(repo):
    sources = [p for p in (repo / "src" / "attune").rglob("*.py") if "cli" not in p.relative_to(repo / "src" / "attune").parts]
    assert sources
    for path in sources:
        text = path.read_text("utf-8")
        assert "import click" not in text and "from click" not in text, path


def test_no_module_is_over_500_lines(repo):
    for path in (repo / "src" / "attune").rglob("*.py"):
        assert len(path.read_text("utf-8").splitlines()) <= 500, path


def test_the_track_format_is_defined_once(repo):
    definitions = [p for p in (repo / "src" / "attune").rglob("*.py") if "\nSAMPLE_RATE = " in "\n" + p.read_text("utf-8")]
    assert [p.name for p in definitions] == ["timebase.py"]


def test_no_test_module_imports_another(repo):
    for path in (repo / "tests").rglob("*.py"):
        for line in path.read_text("utf-8").splitlines():
            assert not line.startswith(("from test_", "import test_", "from conftest", "import conftest")), f"{path}: {line}"
