"""The files a track reads, carried to a worker on another machine: bytes and content hashes, not paths.

On the client, `bundle(request)` reads every input file of a render (the script, the sound files its
backgrounds name, the takes it speaks with, the cover) into `InputFile`s: the bytes and their sha256, or only the hash and the
package-relative name for a file shipped inside Attune (a built-in practice or sound; the worker's
Attune is checked to be the same version). On the worker, `materialise` writes them into the task's
scratch folder, under their client paths (so a script's relative sound file is found beside it),
points the request there, and proves that the render will read exactly the bytes the client hashed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path, PurePosixPath

from ..errors import AttuneError
from ..library import PRACTICES_DIR, resolve_script
from ..request import RenderRequest, input_files

#: Files under this folder ship with Attune: carried by name and hash only.
PACKAGE_DIR = PRACTICES_DIR.parent


@dataclasses.dataclass(frozen=True)
class InputFile:
    """One file a render reads: where the client had it, its sha256, and its bytes (None: shipped with Attune)."""

    client_path: str
    sha256: str
    data: bytes | None = None
    #: For a file shipped with Attune: its path inside the package.
    package_path: str | None = None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle(request: RenderRequest) -> tuple[InputFile, ...]:
    """Every input file of `request`, read on the client (a missing one is left to the render to report)."""
    out: dict[str, InputFile] = {}
    for path in input_files(request):
        resolved = Path(path).resolve()
        try:
            data = resolved.read_bytes()
        except OSError:
            continue
        if PACKAGE_DIR in resolved.parents:
            out[str(resolved)] = InputFile(str(resolved), _digest(data), None, resolved.relative_to(PACKAGE_DIR).as_posix())
        else:
            out[str(resolved)] = InputFile(str(resolved), _digest(data), data)
    return tuple(out.values())


def _mirror(folder: Path, client_path: str | Path) -> Path:
    """Where a client path lives inside the worker's scratch `folder` (its anchor dropped)."""
    parts = PurePosixPath(Path(client_path).resolve().as_posix()).parts[1:]
    return folder.joinpath(*parts) if parts else folder


def materialise(request: RenderRequest, files: tuple[InputFile, ...], folder: Path) -> RenderRequest:
    """Write `files` under `folder` and return `request` pointing at them (worker side)."""
    by_path = {f.client_path: f for f in files}
    local: dict[str, Path] = {}
    for item in files:
        if item.package_path is not None:
            local[item.client_path] = PACKAGE_DIR / item.package_path
            continue
        assert item.data is not None
        target = _mirror(folder, item.client_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.data)
        local[item.client_path] = target

    def moved(path: Path | None) -> Path | None:
        if path is None:
            return None
        key = str(Path(path).resolve())
        return local.get(key, _mirror(folder, key))

    script = str(resolve_script(request.script_path).resolve())
    settings = request.settings
    if settings.background is not None:
        settings = dataclasses.replace(settings, background=dataclasses.replace(settings.background, base_dir=_mirror(folder, settings.background.base_dir)))
    if settings.recording is not None:  # the take, by its absolute client path, mirrored like every file
        settings = dataclasses.replace(settings, recording=dataclasses.replace(settings.recording, value=str(_mirror(folder, settings.recording.file)), base_dir=folder))
    moved_request = dataclasses.replace(request, script_path=local.get(script, _mirror(folder, script)), settings=settings, cover=moved(request.cover))
    hashes = {f.sha256 for f in by_path.values()}
    for path in input_files(moved_request):
        try:
            digest = _digest(Path(path).read_bytes())
        except OSError:
            continue  # missing: the render says so, in the client's terms
        if digest not in hashes:
            raise AttuneError(
                f"the worker would read {path}, which the client did not send (or sent with other contents)",
                "use file names relative to the roster or the script, or the same shared folder on every machine",
            )
    return moved_request
