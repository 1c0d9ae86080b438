"""Where a batch's files go: a local folder, or any fsspec URL (`s3://bucket/prefix`, `memory://…`).

Keys are the layout's paths relative to DEST (`tracks/<id>/01-x.mp3`, `public/<token>/feed.xml`,
`manifest.json`). An object appears only when it is complete:

- a local destination writes a temporary file beside the target and `os.replace`s it (as before);
- an fsspec destination uploads a finished local file to a temporary key (`.NAME.<run>.<uuid>.part`,
  unique across machines) and then moves it to its key. `with fs.open(key, "wb")` is never used for
  an output: s3fs commits what was written so far when an exception leaves the block (s3fs #154).

`StoreSpec` is what a Dask task carries (a URL and the storage options); each side opens its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import OutputError
from ..system.atomic import atomic_path
from .layout import TRACKS, inside, is_temporary, output_root, remove_empty_folders
from .manifest import FileEntry


@dataclass(frozen=True)
class StoreSpec:
    """A destination as a task carries it: a local path or an fsspec URL, and its storage options."""

    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return not is_url(self.url) or self.url.startswith("file://")


def is_url(dest: str | os.PathLike) -> bool:
    """`s3://…`, `memory://…`, `gcs://…`: anything with a protocol (a Windows `C:\\` is a path)."""
    text = str(dest)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and len(scheme) > 1


def check_key(key: str) -> str:
    """A relative key with no `..` and no empty part: what the layout builds, never what escapes it."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(part in ("..", ".", "") for part in parts):
        raise OutputError(f"refusing to write the key {key!r}: it is not inside the destination", "check the roster's names")
    return key


class Store:
    """The operations a batch needs on DEST; subclasses for a local folder and for fsspec."""

    url: str
    #: The resolved folder for a local destination; None for object storage.
    local_root: Path | None = None
    #: Where a track's files are kept. False (a folder): at `tracks/<id>/`, and the public folder
    #: holds hard links to them. True (object storage, which has no links): once, as the objects of
    #: the client's public folder, which the manifest points at (a revoked client's move to `tracks/`).
    keeps_in_public: bool = False

    def display(self, key: str = "") -> str:
        return self.url.rstrip("/") + ("/" + key if key else "")

    def key(self, key: str) -> str:
        """`key`, refused (OutputError) when it would not stay inside the destination."""
        return check_key(key)

    def read_text(self, key: str) -> str | None:
        raise NotImplementedError

    def write_text(self, key: str, text: str, *, mode: int | None = None) -> None:
        raise NotImplementedError

    def put_files(self, pairs: Sequence[tuple[Path, str]], run_id: str = "") -> None:
        """Upload finished local files to their keys: all to temporary names first, then each into place."""
        raise NotImplementedError

    def get_file(self, key: str, local: Path) -> None:
        raise NotImplementedError

    def size(self, key: str) -> int | None:
        raise NotImplementedError

    def listing(self, prefix: str = "") -> dict[str, tuple[int, float]]:
        """Every object under `prefix`: key → (bytes, modified as a POSIX time)."""
        raise NotImplementedError

    def remove(self, keys: Sequence[str]) -> None:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def intact(self, entry: FileEntry) -> bool:
        """The file is there with the recorded size (and, in a local folder, the recorded sha256)."""
        return self.size(entry.path) == entry.bytes

    def copy(self, source: str, target: str) -> None:
        """A copy of the object `source` at `target`, made by the storage itself (nothing downloaded)."""
        raise NotImplementedError

    def replace_tree(self, folder: Path, prefix: str, run_id: str, last: Sequence[str] = (), in_place: Collection[str] = ()) -> None:
        """Make the objects under `prefix` those of the local `folder`: every file uploaded whole,
        the names in `last` (the page and the feed, which link to the rest) after all others, then
        what the folder no longer has removed. Keys in `in_place` are there already (a track's
        files, uploaded by its render): neither uploaded again nor removed."""
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        rel = {p: p.relative_to(folder).as_posix() for p in files}
        first = [(p, f"{prefix}/{rel[p]}") for p in files if rel[p] not in last and f"{prefix}/{rel[p]}" not in in_place]
        final = [(p, f"{prefix}/{rel[p]}") for p in files if rel[p] in last]
        before = self.listing(prefix)
        self.put_files(first, run_id)
        self.put_files(final, run_id)
        self.remove([key for key in before if key not in {k for _, k in first + final} and key not in in_place])

    def remove_temporaries(self, run_id: str) -> None:
        """Remove the temporary objects this run's tasks left (a worker lost mid-upload)."""
        self.remove([key for key in self.listing() if is_temporary(Path(key)) and f".{run_id}." in PurePosixPath(key).name])

    def tidy(self, run_id: str, since: float) -> None:
        """Remove what an interrupted or failed run may leave: this run's temporary objects."""
        with contextlib.suppress(Exception):
            self.remove_temporaries(run_id)


class LocalStore(Store):
    """A local folder (the layout's own `output_root`), written with temporary files and `os.replace`."""

    def __init__(self, folder: Path, create: bool = True):
        self.local_root = output_root(Path(folder)) if create else Path(folder).resolve()
        self.url = str(self.local_root)

    def path(self, key: str) -> Path:
        assert self.local_root is not None
        return inside(self.local_root, self.local_root / check_key(key))

    def display(self, key: str = "") -> str:
        return str(self.path(key)) if key else self.url

    def key(self, key: str) -> str:
        self.path(key)  # a folder inside DIR that is a symlink to somewhere else is refused here
        return key

    def read_text(self, key: str) -> str | None:
        try:
            return self.path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, key: str, text: str, *, mode: int | None = None) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, mode=mode) as tmp:
            tmp.write_text(text, encoding="utf-8")

    def put_files(self, pairs: Sequence[tuple[Path, str]], run_id: str = "") -> None:
        with contextlib.ExitStack() as stack:
            for local, key in pairs:
                target = self.path(key)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(local, stack.enter_context(atomic_path(target)))
            # Leaving the stack renames every copy into place (in reverse order); a failure before removes them all.

    def get_file(self, key: str, local: Path) -> None:
        shutil.copyfile(self.path(key), local)

    def size(self, key: str) -> int | None:
        try:
            path = self.path(key)
            return path.stat().st_size if path.is_file() else None
        except (OSError, OutputError):
            return None

    def intact(self, entry: FileEntry) -> bool:
        assert self.local_root is not None
        return entry.intact(self.local_root)

    def listing(self, prefix: str = "") -> dict[str, tuple[int, float]]:
        assert self.local_root is not None
        base = self.path(prefix) if prefix else self.local_root
        out = {}
        for path in base.rglob("*") if base.is_dir() else ():
            with contextlib.suppress(OSError):
                if path.is_file():
                    stat = path.stat()
                    out[path.relative_to(self.local_root).as_posix()] = (stat.st_size, stat.st_mtime)
        return out

    def remove(self, keys: Sequence[str]) -> None:
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                self.path(key).unlink()

    def tidy(self, run_id: str, since: float) -> None:
        """Remove what an interrupted or failed run may leave: temporary files and folders from this run
        (`.NAME.*.part`, publications in progress, modified since `since`) and empty track folders."""
        assert self.local_root is not None
        for path in list(self.local_root.rglob(".*")):
            with contextlib.suppress(OSError):
                if is_temporary(path) and path.lstat().st_mtime >= since:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink()
        remove_empty_folders(self.local_root / TRACKS)


class FsspecStore(Store):
    """Object storage (or any fsspec file system) under a URL prefix."""

    keeps_in_public = True

    def __init__(self, spec: StoreSpec):
        try:
            import fsspec
        except ImportError:
            raise OutputError(f"{spec.url} needs fsspec", "pip install 'attune[s3]'") from None
        try:
            self.fs, root = fsspec.core.url_to_fs(spec.url, **spec.storage_options)
        except (ImportError, ValueError) as exc:
            raise OutputError(f"cannot open {spec.url}: {exc}", "pip install 'attune[s3]' for s3://, or check --storage-options") from None
        self.root = root.rstrip("/")
        self.url = spec.url.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def _temp(self, key: str, run_id: str) -> str:
        parent, _, name = self._path(key).rpartition("/")
        return f"{parent}/.{name}.{run_id or 'run'}.{uuid.uuid4().hex}.part"

    def read_text(self, key: str) -> str | None:
        try:
            return bytes(self.fs.cat_file(self._path(key))).decode("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, key: str, text: str, *, mode: int | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="attune-put-") as scratch:
            local = Path(scratch) / "data"
            local.write_text(text, encoding="utf-8")
            self.put_files([(local, key)])

    def put_files(self, pairs: Sequence[tuple[Path, str]], run_id: str = "") -> None:
        temps: list[tuple[str, str]] = []
        try:
            for local, key in pairs:
                temps.append((self._temp(key, run_id), self._path(key)))  # listed first: a failed upload is removed too
                self.fs.put_file(str(local), temps[-1][0])
            while temps:
                tmp, final = temps[0]
                self.fs.mv(tmp, final)
                temps.pop(0)
        finally:
            for tmp, _ in temps:
                with contextlib.suppress(Exception):
                    self.fs.rm_file(tmp)
            self.fs.invalidate_cache()

    def get_file(self, key: str, local: Path) -> None:
        self.fs.get_file(self._path(key), str(local))

    def copy(self, source: str, target: str) -> None:
        self.fs.copy(self._path(source), self._path(target))  # S3: CopyObject, whole or not at all
        self.fs.invalidate_cache()

    def size(self, key: str) -> int | None:
        self.fs.invalidate_cache()
        try:
            info = self.fs.info(self._path(key))
        except FileNotFoundError:
            return None
        return int(info["size"]) if info.get("type") == "file" else None

    def listing(self, prefix: str = "") -> dict[str, tuple[int, float]]:
        self.fs.invalidate_cache()
        base = self._path(prefix) if prefix else self.root
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return {}
        return {self._key(name): (int(info.get("size") or 0), _modified(info)) for name, info in found.items() if info.get("type") == "file"}

    def _key(self, name: str) -> str:
        name = self.fs._strip_protocol(name)
        return name[len(self.root) + 1 :] if self.root else name

    def remove(self, keys: Sequence[str]) -> None:
        paths = [self._path(key) for key in keys]
        if paths:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(paths)
            self.fs.invalidate_cache()


def _modified(info: dict[str, Any]) -> float:
    for name in ("LastModified", "mtime", "created", "last_modified"):
        value = info.get(name)
        if isinstance(value, dt.datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return 0.0


def open_store(spec: StoreSpec, *, create: bool = True) -> Store:
    """The store of a destination (a local folder is created and proved writable)."""
    if spec.is_local:
        return LocalStore(Path(spec.url.removeprefix("file://")), create=create)
    return FsspecStore(spec)


@contextlib.contextmanager
def scratch_folder(parent: Path | None, prefix: str) -> Iterator[Path]:
    """A private folder for one task's files, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
