"""What every Dask worker of a batch does before it may take a track: warm up, and prove it renders as this machine does.

`WorkerCheck` is a `distributed.WorkerPlugin`. The client registers it with the scheduler when the
batch starts; the scheduler runs its `setup` on every worker there, and again on every worker that
joins later, before that worker is given anything. `setup` imports the renderer and fills its
caches once per worker (`attune.render.warm_up`; a no-op on a `local:N` worker, forked warm from
the batch's forkserver), then compares the worker's identity (Attune's version, the speech identity
of every voice the batch asks for, whether it sees a local destination) with the client's.

A worker that matches gets the batch's resource (`attune-<digest>`, one per thread); every track
and publication asks for one, so the scheduler gives them only to checked workers. A worker that
differs gets none (it stays idle for this batch) and says why in an event the client reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .dask_tasks import worker_identity
from .store import StoreSpec

#: The topic of the events a refused worker logs on the scheduler (`Client.get_events`).
REFUSED_TOPIC = "attune-worker-refused"


class WorkerCheck(WorkerPlugin):
    """Warm the worker, compare its identity with `expected`, and give it the batch's resource only if they match."""

    def __init__(self, expected: dict[str, Any], asks: list[Any], dest: StoreSpec, probe: str | None):
        self.expected, self.asks, self.dest, self.probe = expected, asks, dest, probe
        digest = hashlib.sha256(json.dumps([expected["attune"], expected["engines"], dest.url], sort_keys=True).encode()).hexdigest()[:12]
        #: The resource every task of the batch asks for, and the plugin's name (registering it again replaces it).
        self.resource = self.name = f"attune-{digest}"
        self.verdict: dict[str, Any] | None = None

    async def setup(self, worker: Any) -> None:
        info = await asyncio.get_running_loop().run_in_executor(None, _warm_identity, self.asks, self.dest, self.probe)
        problem = refusal(self.expected, info)
        self.verdict = {**info, "problem": problem}
        await worker.set_resources(**{self.resource: 0 if problem else worker.state.nthreads})
        if problem is not None:
            worker.log_event(REFUSED_TOPIC, {"resource": self.resource, "worker": worker.address, "host": info["host"], "problem": problem})


def _warm_identity(asks: list[Any], dest: StoreSpec, probe: str | None) -> dict[str, Any]:
    import importlib

    importlib.import_module("attune.render").warm_up()
    importlib.import_module("attune.delivery.batch")
    return worker_identity(asks, dest, probe)


def refusal(mine: dict[str, Any], info: dict[str, Any]) -> tuple[str, str] | None:
    """Why a worker with identity `info` may not render this batch (message, hint), or None."""
    if info["attune"] != mine["attune"] or info["engines"] != mine["engines"]:
        differs = [f"attune {info['attune']} (here {mine['attune']})"] if info["attune"] != mine["attune"] else []
        if not differs:  # the same Attune, another engine (or engine library)
            differs = [f"{e}: {info['engines'].get(e)!r} (here {mine['engines'][e]!r})" for e in mine["engines"] if info["engines"].get(e) != mine["engines"][e]]
        return (f"differs from this machine: {'; '.join(differs)}",
                "install the same Attune version and speech engine on every worker (fingerprints would not match otherwise)")  # fmt: skip
    if info["sees_dest"] is False:
        return ("cannot see the output folder", "use a folder every worker shares, or an object-storage destination (-o s3://bucket/prefix)")
    return None


def verdict_of(name: str, dask_worker: Any = None) -> dict[str, Any] | None:
    """(Run on a worker by `Client.run`) the check's verdict there; None while its setup has not finished."""
    plugin = dask_worker.plugins.get(name) if dask_worker is not None else None
    return getattr(plugin, "verdict", None)


def checked_threads(resource: str, dask_scheduler: Any = None) -> int:
    """(Run on the scheduler by `Client.run_on_scheduler`) the threads of the workers holding
    `resource`. A task waiting for a worker (`no-worker`: every checked worker had died) is given to
    one that holds it now: the scheduler looks at waiting tasks when a worker joins, not when a
    worker's resources change, and the check gives them after the worker has joined."""
    scheduler = dask_scheduler
    holders = [ws for ws in scheduler.workers.values() if ws.resources.get(resource, 0) > 0]
    if scheduler.unrunnable:
        for ws in holders:
            scheduler.transitions(scheduler.bulk_schedule_unrunnable_after_adding_worker(ws), stimulus_id=f"attune-checked-{time.time()}")
    return int(sum(ws.resources[resource] for ws in holders))
