"""Where a batch writes: what is published, what is kept, and that nothing strays outside.

```
DIR/public/                  safe to upload as it is; names no client
DIR/public/robots.txt        User-agent: * / Disallow: /
DIR/public/index.html        an empty page, so a host that lists folders does not list the tokens
DIR/public/<token>/          one folder per client (index.html, feed.xml, tracks, captions, chapters, cover, practice.zip)
DIR/tracks/<client id>/      kept: the rendered tracks, from which the public folders are assembled
DIR/manifest.json            kept: everything rendered, with checksums and figures
DIR/access.json              kept, mode 0600: client → token, state, dates
DIR/links.csv                kept: client, page URL, feed URL
DIR/.attune-batch.lock       while a batch runs: its lock, naming it (pid, host, start)
```

Every path is checked to stay inside DIR.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import BusyError, OutputError
from ..slugs import slugify
from ..system.lock import Held, hold

PUBLIC = "public"
TRACKS = "tracks"
#: Held (flock) by the batch writing DIR, and by its worker processes, which share it.
BATCH_LOCK = ".attune-batch.lock"
ROBOTS = "User-agent: *\nDisallow: /\n"
#: The page at `public/` itself, so that a host which lists folders shows nothing of the tokens.
PUBLIC_INDEX = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">'
    "<title>Nothing here</title></head><body></body></html>\n"
)


def inside(root: Path, path: Path) -> Path:
    """`path` resolved, or OutputError when it is not inside `root` (which must be resolved)."""
    resolved = Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise OutputError(f"refusing to write {path}: it is outside {root}", "check the roster's names and the output folder", path=str(path))
    return resolved


def output_root(out_dir: Path) -> Path:
    """Create the output folder (and its public and kept parts) if needed, and prove it can be
    written by writing to it, before any rendering: a read-only folder (or file system) is one clear
    error, whoever runs Attune. Returns the folder resolved."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", "choose another folder with -o", path=str(out_dir)) from None
    if not out_dir.is_dir():
        raise OutputError("the output path is not a folder", "choose a folder with -o", path=str(out_dir))
    root = out_dir.resolve()
    try:
        for part in (PUBLIC, TRACKS):
            (root / part).mkdir(exist_ok=True)
        for folder in (root, root / PUBLIC, root / TRACKS):
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".attune-probe-"):
                pass
    except OSError as exc:
        raise OutputError(
            f"the output folder cannot be written ({exc.strerror})", "choose another folder with -o, or make it writable", path=str(out_dir)
        ) from None
    return root


def public_stem(stem: str, client_name: str) -> str:
    """A track's published file name (without suffix): its own, unless a word of the client's name
    is in it (a title such as "Ana's evening"), then `NN-track`. No published path names a client."""
    words = {word for word in slugify(client_name, fallback="").split("-") if len(word) >= 2}
    number, _, rest = stem.partition("-")
    if words & set(rest.split("-")):
        return f"{number}-track"
    return stem


def temporary_folder(parent: Path, name: str) -> Path:
    """A new hidden folder beside `name` in `parent`, for building a folder that appears complete."""
    folder = parent / f".{name}.part-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def remove_empty_folders(root: Path) -> None:
    """Remove folders under `root` that hold nothing (deepest first); `root` itself stays."""
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def is_temporary(path: Path) -> bool:
    """A temporary file or folder of Attune's: `.NAME.….part` files (atomic writes), the
    `.TOKEN.part-…`, `.TOKEN.old-…`, `.TOKEN.gone-…` folders of a publication in progress, and a
    track's render lock `.STEM.lock` (the batch's own lock is not one)."""
    name = path.name
    if not name.startswith(".") or name == BATCH_LOCK:
        return False
    return name.endswith((".part", ".lock")) or any(mark in name for mark in (".part-", ".old-", ".gone-"))


@contextlib.contextmanager
def batch_lock(root: Path | None) -> Iterator[int | None]:
    """Hold DIR's batch lock for the block (yields its descriptor, for the workers to share); a
    second batch into DIR gets one BusyError naming the first (its pid, when it started). Object
    storage (`root` None) has no lock: one batch at a time there is the caller's to keep."""
    if root is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            fd = stack.enter_context(hold(root / BATCH_LOCK, "batch"))
        except Held as busy:
            pid = busy.holder.pid
            stop = f" (or stop it: kill {pid})" if pid is not None and busy.holder.alive else ""
            raise BusyError(f"another batch is writing to this folder ({busy.holder.describe()})", f"wait for it to finish{stop}, then run again",
                            path=str(root)) from None  # fmt: skip
        yield fd
