"""Feeding rows into a dataset: the part of a run that the crawl and import jobs share.

``open_run`` resolves the dataset (creating it or updating its settings) and begins a
run; ``Ingestion.add`` passes each row through the dataset's pipeline and stages it, or
sets it aside as a reject, a batch at a time; ``Ingestion.commit`` swaps the run in.

A run that found anything new, changed or gone emits a ``dataset.changed`` webhook
event in the transaction that commits it.

A job commits at most one run per dataset: ``open_run`` returns the summary of the run
the same job already committed, if any, so a job that runs again after its completion
was lost (its lease ran out just as it finished) changes the dataset once, not twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapeyard import errors
from scrapeyard.datasets import normalise, pipeline, spec
from scrapeyard.notify import events as notify_events
from scrapeyard.queue.database import Database
from scrapeyard.queue.dataset_runs import MAX_REJECTS_PER_RUN, Run, RunStore, Summary
from scrapeyard.queue.datasets import DatasetStore
from scrapeyard.queue.store import JobStore

BATCH = 2000
"""Records staged per transaction."""


@dataclass(frozen=True)
class Opened:
    """A dataset ready to take a run's records (or the run this job already made)."""

    dataset: spec.DatasetSpec
    dataset_id: int
    done: Summary | None


async def open_dataset(
    db: Database,
    name: str,
    settings: Mapping[str, Any],
    *,
    job_id: int,
    defaults: Mapping[str, Any] | None = None,
) -> Opened:
    """The dataset ``name`` with ``settings`` applied (created if need be)."""
    try:
        row = await DatasetStore(db).ensure(name, settings, defaults=defaults)
    except errors.DatasetConflict as exc:
        raise errors.PermanentError(exc.message) from exc
    done = await RunStore(db).committed(job_id, row["id"])
    return Opened(spec.DatasetSpec.from_row(row), row["id"], done)


class Ingestion:
    """One run's records on their way in (see the module docstring)."""

    def __init__(
        self, store: JobStore, run: Run, dataset: spec.DatasetSpec, *, job_id: int, source: str
    ) -> None:
        self.store = store
        self.runs = RunStore(store.db)
        self.run = run
        self.dataset = dataset
        self.job_id = job_id
        self.source = source
        self.pipeline = pipeline.Pipeline(dataset)
        self.received = 0
        self.rejected = 0
        self._staged: list[dict[str, Any]] = []
        self._rejects: list[dict[str, Any]] = []

    @classmethod
    async def begin(
        cls, store: JobStore, opened: Opened, *, job_id: int, source: str, full: bool
    ) -> Ingestion:
        run = await RunStore(store.db).begin(
            opened.dataset_id, job_id=job_id, source=source, full=full
        )
        return cls(store, run, opened.dataset, job_id=job_id, source=source)

    async def add(
        self,
        data: Mapping[str, Any],
        *,
        line: int | None = None,
        source: Mapping[str, Any] | None = None,
        base_url: str | None = None,
    ) -> None:
        """Prepare one row and stage it (or its rejection); stores a batch when full."""
        self.received += 1
        try:
            prepared = self.pipeline.prepare(data, source, base_url=base_url)
        except errors.RecordRejected as exc:
            self.rejected += 1
            if self.rejected <= MAX_REJECTS_PER_RUN:
                self._rejects.append({"line": line, "reason": exc.reason, "data": dict(data)})
        else:
            self._staged.append(prepared.to_row())
        if len(self._staged) + len(self._rejects) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Store what is waiting."""
        staged, self._staged = self._staged, []
        rejects, self._rejects = self._rejects, []
        await self.runs.stage(self.run, staged)
        await self.runs.reject(self.run, _storable(rejects))

    async def commit(self) -> Summary:
        """Store the rest and swap the run in; the run's summary."""
        await self.flush()
        await self.runs.ready_to_commit()
        async with self.store.transaction() as tx:
            summary = await self.runs.commit(
                self.run, received=self.received, rejected=self.rejected, conn=tx
            )
            if summary.new or summary.changed or summary.gone:
                await notify_events.emit(
                    self.store,
                    "dataset.changed",
                    {
                        "dataset": self.dataset.name,
                        "source": self.source,
                        "job_id": self.job_id,
                        **summary.to_json(),
                    },
                    notify_events.Scope(job_id=self.job_id),
                    conn=tx,
                )
        return summary

    async def fail(self, reason: str) -> None:
        """Abandon the run: nothing it staged is kept."""
        await self.runs.fail(self.run, reason)


def _storable(rejects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rejects whose data the database can store (a reject may be rejected precisely
    because its data cannot be stored as JSON)."""
    for item in rejects:
        try:
            item["data"] = normalise.deep_text(item["data"])
            pipeline.digest(item["data"])
        except (errors.RecordRejected, RecursionError):
            item["data"] = None
    return rejects
