"""The batch: render every client's tracks from a roster, then publish each client behind a private link.

`run_batch(roster, DEST, BatchOptions(...))` is the library's one call. `BatchOptions` holds what
the user asked for (the command line's flags) and refuses combinations that cannot work when it is
built, before anything is read. The work is the one runner's (`attune.delivery.runner`), over a
store for DEST (a folder, or object storage: `attune.delivery.store`) and an executor for where
tracks render (this machine: `attune.delivery.process_pool`; a Dask cluster: `attune.delivery.cluster`).

Tracks render into the kept part of DEST (`tracks/<client id>/`); each client whose tracks are all
done is then published to `public/<token>/` (see `attune.delivery.layout` and
`attune.delivery.access`). One failing track never stops the others: its error is in the report.
Interrupted, a batch keeps what finished (a re-run skips it), publishes the clients whose tracks
all finished and says which, and leaves no temporary file and no empty folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from ..request import request_fingerprint
from ..settings import TrackSettings
from ..system.paths import default_cache_dir
from .feed import check_base_url
from .layout import batch_lock
from .publish import roster_with_cover
from .report import BatchReport, Progress, TrackOutcome, format_summary
from .roster import Roster, load_roster
from .runner import MANIFEST_SAVE_INTERVAL_S, BatchRunner, track_request
from .store import LocalStore, Store, StoreSpec, is_url, open_store

__all__ = ["MANIFEST_SAVE_INTERVAL_S", "BatchOptions", "BatchReport", "Progress", "TrackOutcome", "format_summary", "run_batch", "track_request"]


@dataclass(frozen=True)
class BatchOptions:
    """What a batch is asked to do, checked when built (the flags of `attune batch`)."""

    #: Worker processes on this machine (None: one per core); not with `cluster`.
    jobs: int | None = None
    #: The public URL of DEST/public/ (normalised to end in `/`).
    base_url: str | None = None
    #: Render every track again, even when unchanged.
    force: bool = False
    #: The speech cache folder (on a cluster: on every worker; None: each one's default).
    cache_dir: Path | None = None
    #: Settings given on the command line: they win over every track's.
    overrides: TrackSettings | None = None
    #: `"local:N"`, `"tcp://HOST:PORT"`, or a `distributed.Client` of the caller's (None: this machine).
    cluster: Any = None
    #: fsspec options for a URL destination and `cache_url`.
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    #: A shared speech store every worker reads through (with `cluster`).
    cache_url: str | None = None
    #: How often a track's worker may die before the track is failed (with `cluster="local:N"`).
    allowed_failures: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "storage_options", dict(self.storage_options or {}))
        if self.cluster is not None and self.jobs is not None:
            raise SettingsError("--jobs is for one machine's process pool, not for --cluster", "leave out --jobs: each Dask worker renders one track at a time")
        if self.cluster is None and self.cache_url is not None:
            raise SettingsError("--cache-url is for --cluster", "give a shared folder with --cache-dir instead")
        if self.jobs is not None and self.jobs < 1:
            raise SettingsError(f"--jobs {self.jobs} must be at least 1", "use --jobs 1 to render one track at a time")
        if self.base_url is not None:
            object.__setattr__(self, "base_url", check_base_url(self.base_url))
        if isinstance(self.cluster, str):
            from .cluster import parse_cluster

            if parse_cluster(self.cluster)[0] == "remote" and self.allowed_failures is not None:
                raise SettingsError(
                    "--allowed-failures is a setting of the scheduler, not of this client",
                    "start the scheduler with DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2 in its environment",
                )

    def check_destination(self, dest: Path | str) -> None:
        """DEST is one these options can write: object storage needs a cluster, and links that are URLs."""
        if self.cluster is None and is_url(dest):
            raise SettingsError(f"-o {dest} is object storage, which needs --cluster", "add --cluster local:2 to render on this machine's cores")
        if self.cluster is not None and not StoreSpec(str(dest)).is_local and not self.base_url:
            raise SettingsError(f"-o {dest} is object storage, so the links need --base-url", "pass --base-url, the public URL of DEST/public/")


def run_batch(
    roster_path: Path,
    out_dir: Path | str,
    options: BatchOptions | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    render_fn: Callable[..., Any] | None = None,
    fingerprint_fn: Callable[[Any], str] | None = None,
) -> BatchReport:
    """Render a roster into `out_dir` and publish each client; see the module docstring.

    `progress` hears every event. `render_fn` and `fingerprint_fn` stand in for
    `attune.render.render` (imported only where a track renders) and
    `attune.request.request_fingerprint` in tests; with more than one worker they must be
    module-level functions (they are sent to worker processes). Raises AttuneError only for problems
    with the whole batch (the roster, DEST, the options); track problems are in the report.
    """
    options = options or BatchOptions()
    options.check_destination(out_dir)
    roster = load_roster(roster_path)
    # The cover podcast apps accept (the roster's, fitted; else one drawn), made on this machine: on a
    # cluster the tasks carry its bytes. Kept in this machine's speech cache.
    here = options.cache_dir if options.cluster is None and options.cache_dir is not None else default_cache_dir()
    roster = roster_with_cover(roster, Path(here).resolve())
    store = open_store(StoreSpec(str(out_dir), dict(options.storage_options)))  # a folder is created and proved writable here
    with batch_lock(store.local_root) as lock_fd:
        if lock_fd is not None:  # holding DIR, nothing else writes it: what a killed batch left half-made goes now
            store.tidy("", 0.0)
        return _run(roster, store, out_dir, options, lock_fd, progress, render_fn, fingerprint_fn)


def _run(
    roster: Roster, store: Store, out_dir: Path | str, options: BatchOptions, lock_fd: int | None, progress: Callable[[Progress], None] | None,
    render_fn: Callable[..., Any] | None, fingerprint_fn: Callable[[Any], str] | None,
) -> BatchReport:  # fmt: skip
    """The batch over an open store, DIR held (`lock_fd`, shared with the workers; None on object storage)."""
    executor: Any
    if options.cluster is None:
        # Decided here, not in the workers: a forkserver's workers see the environment (and folder) of
        # the moment the server started, which in a long-lived process may not be the caller's now.
        cache_dir = Path(options.cache_dir).resolve() if options.cache_dir is not None else default_cache_dir()
        from .process_pool import LocalExecutor

        executor = LocalExecutor(options.jobs, store, cache_dir, render_fn, lock_fd=lock_fd)
    else:
        from .cluster import DaskExecutor

        spec = StoreSpec(str(store.local_root), dict(options.storage_options)) if isinstance(store, LocalStore) else StoreSpec(str(out_dir), dict(options.storage_options))
        executor = DaskExecutor(options.cluster, store, spec, allowed_failures=options.allowed_failures, render_fn=render_fn, cache_dir=options.cache_dir,
                                cache_url=options.cache_url, storage_options=dict(options.storage_options))  # fmt: skip
    runner = BatchRunner(roster, store, executor, base_url=options.base_url, overrides=options.overrides, force=options.force,
                         fingerprint_fn=fingerprint_fn or request_fingerprint, progress=progress)  # fmt: skip
    return runner.run()
