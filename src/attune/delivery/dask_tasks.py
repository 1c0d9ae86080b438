"""What a batch's Dask workers run: one track's render, one client's publication, the identity check.

A task carries everything it needs (the script and input files as bytes and hashes, the settings,
the fingerprint the client computed, the destination key) and returns only the small manifest
entry. Each task works in a scratch folder of its own inside the worker's local directory, with the
usual atomic writes, then uploads its finished files (`attune.delivery.store`): an object appears
only when complete. Renders are idempotent, so a task whose worker died is simply run again
elsewhere. Never the local process pool here: Dask's workers are daemonic and may not have children
of their own (ffmpeg and the speech engine are plain subprocesses, which is fine).
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AttuneError
from .inputs import InputFile, materialise
from .layout import public_path
from .manifest import TrackEntry, relocated
from .store import LocalStore, StoreSpec, open_store, scratch_folder
from .track_job import JobMeta, JobResult, render_entry


@dataclass(frozen=True)
class RenderTask:
    """One track, as sent to a worker."""

    key: str
    request: Any  # a RenderRequest with the client's paths; pointed at the scratch copies on the worker
    inputs: tuple[InputFile, ...]
    fingerprint: str
    title_override: str | None
    meta: JobMeta
    dest: StoreSpec
    run_id: str
    render_fn: Callable[..., Any] | None = None
    #: The speech cache folder on the worker (None: its own default, node-local).
    cache_dir: str | None = None
    #: A shared speech store (`--cache-url`), and its storage options.
    cache_url: str | None = None
    cache_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: The client's token: on object storage the track's files are uploaded once, into their public folder.
    token: str | None = None


@dataclass(frozen=True)
class PublishTask:
    """One client's publication, as sent to a worker once all their tracks have finished."""

    roster: Any  # the Roster, its cover pointed at `cover` below
    cover: InputFile | None
    client: Any
    access: Any  # the client's ClientAccess
    entries: tuple[TrackEntry, ...]
    base_url: str | None
    dest: StoreSpec
    run_id: str


def _scratch_parent() -> Path | None:
    """The worker's local directory (Dask removes it when the worker closes), else the system's."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError, AttributeError):
        return None


def render_task(task: RenderTask) -> JobResult:
    """Render one track in a scratch folder and upload its files; never raises for a track problem."""
    with scratch_folder(_scratch_parent(), "attune-track-") as scratch:
        try:
            request = materialise(task.request, task.inputs, scratch / "in")
            out_root = (scratch / "out").resolve()
            request = dataclasses.replace(request, output_path=out_root / task.key)
            (out_root / task.key).parent.mkdir(parents=True, exist_ok=True)
            cache_dir = Path(task.cache_dir) if task.cache_dir is not None else None
            if task.cache_url is not None:
                from ..speech.cache import SharedStore, use_shared_store

                use_shared_store(cache_dir, SharedStore(task.cache_url, task.cache_options))
            entry = render_entry(request, task.render_fn, cache_dir, out_root, task.meta, task.title_override, task.fingerprint)
            store = open_store(task.dest, create=False)
            rendered = entry
            token = task.token
            if store.keeps_in_public and token is not None:  # one object per file, in the client's public folder
                entry = relocated(entry, lambda suffix: public_path(token, task.meta.track, task.meta.client, suffix))
            store.put_files([(out_root / file.path, moved.path) for file, moved in zip(rendered.files.values(), entry.files.values())], task.run_id)
            return JobResult(entry=entry)
        except AttuneError as exc:
            return JobResult(error=_client_terms(str(exc), scratch))
        except Exception as exc:  # one track's bug must not stop the batch; it is reported as such
            return JobResult(error=_client_terms(f"internal error: {type(exc).__name__}: {exc}", scratch))


def _client_terms(message: str, scratch: Path) -> str:
    """A worker's message with its scratch copies named by the client's paths again."""
    for folder, name in ((scratch / "in", ""), (scratch / "out", "DEST")):
        message = message.replace(str(folder.resolve()), name).replace(str(folder), name)
    return message


def publish_task(task: PublishTask) -> str:
    """Build the client's public folder and put it at `public/<token>/` of the destination; returns
    the folder's URL. Raises what stops it (the client stays unpublished; the batch says why)."""
    from .publish import publish_client, publish_to_store

    store = open_store(task.dest, create=False)
    with scratch_folder(_scratch_parent(), "attune-publish-") as scratch:
        roster = task.roster
        if task.cover is not None:
            assert task.cover.data is not None
            cover = scratch / "cover" / Path(task.cover.client_path).name
            cover.parent.mkdir()
            cover.write_bytes(task.cover.data)
            roster = dataclasses.replace(roster, cover=cover)
        if isinstance(store, LocalStore):
            assert store.local_root is not None
            return str(publish_client(roster, task.client, task.access, store.local_root, task.entries, task.base_url))
        return publish_to_store(store, roster, task.client, task.access, task.entries, task.base_url, task.run_id, scratch)


def worker_identity(asks: Sequence[Any], dest: StoreSpec | None = None, probe: str | None = None) -> dict[str, Any]:
    """What the client compares before it submits anything: Attune's version, the speech identity of
    each (engine, voice, language, speaker) the batch asks for (`attune.request.speech_ask`), and
    (for a local destination) whether this worker sees the client's probe file there."""
    from ..request import identity_of
    from ..version import __version__

    identities = {_ask_label(tuple(ask)): identity_of(tuple(ask)) for ask in asks}
    sees = None
    if dest is not None and dest.is_local and probe is not None:
        sees = (Path(dest.url.removeprefix("file://")) / probe).is_file()
    return {"attune": __version__, "engines": identities, "host": socket.gethostname(), "pid": os.getpid(), "sees_dest": sees}


def _ask_label(ask: tuple[Any, ...]) -> str:
    """`piper voice joe` / `pyttsx3`: an (engine, voice, language, speaker) ask, for messages."""
    engine, voice, language, speaker = ask
    parts = [str(engine)] + [f"{name} {value}" for name, value in (("voice", voice), ("language", language), ("speaker", speaker)) if value]
    return " ".join(parts)
