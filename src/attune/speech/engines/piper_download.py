"""`attune voices add NAME`: fetch a Piper voice (its `.onnx` and `.onnx.json`) into the voices folder.

By default from Piper's published catalogue (rhasspy/piper-voices on Hugging Face, the layout
piper-tts's own `download_voices` uses): `voices.json` at its root names every voice, with the path
of each file (`en/en_US/joe/medium/en_US-joe-medium.onnx`), its size and its MD5. `--from URL` takes
a mirror of that layout (a folder with `voices.json`), or the URL of one `.onnx` (its `.onnx.json`
beside it), which is then checked by loading it with onnxruntime.

Checked before anything is kept: the sizes and digests the catalogue gives, the config parses as a
Piper voice, and (without a catalogue) the model loads. Both files are downloaded to temporary names
in the voices folder and renamed into place only when both are good, the config first: the folder
never holds a half-written voice, nor a model without its config.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ...errors import AttuneError, VoiceError
from .piper_voices import PiperVoiceFiles, read_voice, voices_dir

#: Piper's published voice catalogue (what piper-tts's `download_voices` reads).
CATALOGUE_URL = "https://huggingface.co/rhasspy/piper-voices/resolve/main/"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Remote:
    """One file to fetch, and what the catalogue says it is (None: nothing said)."""

    url: str
    size_bytes: int | None = None
    md5: str | None = None
    sha256: str | None = None


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AttuneError(f"could not download {url} ({getattr(exc, 'reason', exc)})", "check the connection, or give --from URL of a mirror") from None


def _catalogue_entry(base: str, name: str) -> tuple[str, dict]:
    """The catalogue's key and entry for `name`: a full name (en_US-joe-medium), or a short one (joe; medium preferred)."""
    raw = _get(urllib.parse.urljoin(base, "voices.json"))
    try:
        catalogue = json.loads(raw)
        if not isinstance(catalogue, dict):
            raise ValueError("not a mapping")
    except ValueError as exc:
        raise AttuneError(f"the voice catalogue at {base} is not valid JSON ({exc})", "give --from URL of a folder with Piper's voices.json") from None
    if name in catalogue:
        return name, catalogue[name]
    wanted = name.lower()
    hits = [key for key, entry in catalogue.items() if isinstance(entry, dict) and (key.lower() == wanted or str(entry.get("name", "")).lower() == wanted)]
    if not hits:
        close = sorted(key for key in catalogue if wanted in key.lower())[:5]
        raise VoiceError(f"no Piper voice {name!r} in the catalogue at {base}", f"did you mean {', '.join(close)}?" if close else "its names look like en_GB-alba-medium")
    hits.sort(key=lambda key: (catalogue[key].get("quality") != "medium", key))
    return hits[0], catalogue[hits[0]]


def _remotes(base: str, key: str, entry: dict) -> tuple[Remote, Remote]:
    files = entry.get("files") or {}
    found: dict[str, Remote] = {}
    for rel, info in files.items():
        for suffix in (".onnx.json", ".onnx"):
            if rel.endswith(suffix) and suffix not in found:
                info = info if isinstance(info, dict) else {}
                size = info.get("size_bytes")
                found[suffix] = Remote(urllib.parse.urljoin(base, rel), int(size) if size is not None else None, info.get("md5_digest"), info.get("sha256_digest"))
                break
    if ".onnx" not in found or ".onnx.json" not in found:
        raise AttuneError(f"the catalogue's entry for {key} names no .onnx and .onnx.json", "give --from URL of the .onnx instead")
    return found[".onnx"], found[".onnx.json"]


def _fetch(remote: Remote, dest: Path) -> None:
    """Download `remote` into `dest` (a temporary file), checking the size and digests the catalogue gives."""
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(remote.url, timeout=TIMEOUT_S) as response, open(dest, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                md5.update(chunk)
                sha256.update(chunk)
                size += len(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AttuneError(f"could not download {remote.url} ({getattr(exc, 'reason', exc)})", "check the connection and try again; nothing was kept") from None
    if remote.size_bytes is not None and size != remote.size_bytes:
        raise AttuneError(f"{remote.url} came to {size} bytes, not the catalogue's {remote.size_bytes}", "the download broke off: try again; nothing was kept")
    if remote.md5 and md5.hexdigest() != remote.md5.lower():
        raise AttuneError(f"{remote.url} does not match the catalogue's MD5", "the download is damaged: try again; nothing was kept")
    if remote.sha256 and sha256.hexdigest() != remote.sha256.lower():
        raise AttuneError(f"{remote.url} does not match the catalogue's sha256", "the download is damaged: try again; nothing was kept")


def _check_loads(model: Path) -> None:
    """Load the model with onnxruntime in a child process (the parent never imports onnxruntime)."""
    code = "import sys, onnxruntime; onnxruntime.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])"
    try:
        done = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VoiceError(f"the downloaded model could not be checked ({exc})", "try again") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise VoiceError(f"the downloaded model does not load ({tail})", "check the URL: it must be a Piper .onnx model; nothing was kept")


def add_voice(name: str, from_url: str | None = None, folder: Path | None = None) -> PiperVoiceFiles:
    """Fetch the Piper voice `name` (or the `.onnx` at `from_url`) into the voices folder; returns it, as installed."""
    folder = Path(folder) if folder is not None else voices_dir()
    if from_url is not None and urllib.parse.urlparse(from_url).path.endswith(".onnx"):
        model, config = Remote(from_url), Remote(from_url + ".json")
        stem = Path(urllib.parse.urlparse(from_url).path).name.removesuffix(".onnx")
        check_load = True
    else:
        base = (from_url or CATALOGUE_URL).rstrip("/") + "/"
        stem, entry = _catalogue_entry(base, name)
        model, config = _remotes(base, stem, entry)
        check_load = not (model.md5 or model.sha256)
    final = folder / f"{stem}.onnx"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{stem}.", suffix=".part", dir=folder) as scratch:
        # `.part` names: a render scanning the folder for *.onnx meanwhile never sees a half-written model.
        tmp_model = Path(scratch) / (final.name + ".part")
        tmp_config = tmp_model.with_name(tmp_model.name + ".json")
        _fetch(config, tmp_config)
        _fetch(model, tmp_model)
        read_voice(tmp_model, "download")  # the config parses as a Piper voice
        if check_load:
            _check_loads(tmp_model)
        os.replace(tmp_config, final.with_name(final.name + ".json"))
        try:
            os.replace(tmp_model, final)
        except OSError:
            with contextlib.suppress(OSError):
                final.with_name(final.name + ".json").unlink()
            raise
    return read_voice(final, "voices folder")
