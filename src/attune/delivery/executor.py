"""The seam between the batch runner and where tracks render: what an executor is given, and what it tells back.

The runner (`attune.delivery.runner`) plans once (`BatchPlan`), then hands an executor the tracks to render
(`TrackJob`) and, as each client is complete, its publication (`Publication`). The executor tells
back what happened, as it happens, through `outcomes()`: `Starting` (a track begins, where that is
known), `Rendered` (a track's manifest entry or error), `Published` (a client's folder, or why not)
and `Working` (which workers render which track). Two executors: this machine
(`attune.delivery.process_pool.LocalExecutor`, in this process or in worker processes) and a Dask
cluster (`attune.delivery.cluster.DaskExecutor`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .access import ClientAccess
from .manifest import TrackEntry
from .report import TrackOutcome
from .roster import Client, Roster, TrackSpec
from .track_job import JobMeta, JobResult

if TYPE_CHECKING:
    from ..request import RenderRequest


@dataclass(frozen=True)
class TrackJob:
    """One track to render, as planned: its key under DEST, the request, its fingerprint and who it is for."""

    key: str
    client: Client
    spec: TrackSpec
    #: The request with `output_path` the key (relative); an executor points it where it renders.
    request: RenderRequest
    fingerprint: str
    meta: JobMeta


@dataclass
class BatchPlan:
    """What a batch will do: every track's key (in roster order), the outcomes already decided, the jobs."""

    roster: Roster
    base_url: str | None
    #: Each client's access (token, id, state), by name.
    access: dict[str, ClientAccess]
    #: Names this run's temporary objects (unique across machines with the rest of the name).
    run_id: str
    keys: list[str] = field(default_factory=list)
    #: Keys of revoked clients' tracks: not rendered, but kept in the manifest (rotating restores them).
    kept: list[str] = field(default_factory=list)
    client_keys: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, TrackOutcome] = field(default_factory=dict)
    pending: list[TrackJob] = field(default_factory=list)

    def complete(self, client: Client) -> bool:
        """Every track of the client has an outcome (rendered, unchanged or failed)."""
        return all(key in self.results for key in self.client_keys.get(client.name, []))

    @property
    def active(self) -> list[Client]:
        return [c for c in self.roster.clients if self.access[c.name].active]


@dataclass(frozen=True)
class Publication:
    """A client whose tracks have all finished: their ready tracks, published under their token."""

    client: Client
    access: ClientAccess
    entries: tuple[TrackEntry, ...]
    #: What the published folder is made of (`attune.delivery.publish.publication_fingerprint`).
    fingerprint: str


@dataclass(frozen=True)
class Starting:
    job: TrackJob


@dataclass(frozen=True)
class Rendered:
    job: TrackJob
    result: JobResult


@dataclass(frozen=True)
class Published:
    publication: Publication
    #: None: the folder is in place.
    error: str | None = None


@dataclass(frozen=True)
class Working:
    #: `host:port client / track` for each track a worker is rendering now.
    workers: tuple[str, ...]


Outcome = Starting | Rendered | Published | Working


class Executor(Protocol):
    """Where a batch's tracks render and its clients are published."""

    def session(self, plan: BatchPlan, needed: bool) -> AbstractContextManager[None]:
        """Open what the executor needs (worker processes, a cluster) for the whole run; `needed` is
        False when there is nothing to render and nothing to publish. Closing it stops every worker."""
        ...

    def render(self, jobs: Sequence[TrackJob]) -> None:
        """Queue every track to render (the executor chooses the order)."""
        ...

    def publish(self, publication: Publication) -> None:
        """Queue one client's publication."""
        ...

    def outcomes(self) -> Iterator[Outcome]:
        """What happens, as it happens, until nothing is queued or running."""
        ...

    def publish_now(self, publication: Publication) -> bool:
        """Publish at once, after the session has closed (a batch interrupted between a client's last
        track and its publication); False when this executor cannot (its workers are gone)."""
        ...


def longest_first(jobs: Sequence[TrackJob]) -> list[TrackJob]:
    """Longest tracks first, so that the last to finish is a short one (less time with a worker idle)."""
    return sorted(jobs, key=lambda job: -(job.meta.length_s or 0.0))
