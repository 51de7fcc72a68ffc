"""Running dataset jobs (crawls into datasets, imports, exports) in the test's process,
with a data directory of the test's own, and reading datasets back."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from scrapeyard.queue.datasets import DatasetStore, RecordFilter
from scrapeyard.queue.jobs import Job, JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.process import WorkerProcess
from scrapeyard.worker.resources import Resources
from tests.crawl import harness


def resources(store: JobStore, data_dir: Path) -> Resources:
    """A worker's resources: loopback allowed (the test sites), ``data_dir`` for files."""
    return Resources(
        store,
        worker_id=harness.new_worker_id(),
        allowed_networks=harness.LOOPBACK,
        lease=5.0,
        data_dir=data_dir,
    )


async def run_job(
    store: JobStore, kind: str, payload: dict[str, Any], data_dir: Path, **spec: Any
) -> Job:
    """Enqueue a job, run every ready job in this process until none is left; the job."""
    job = await store.enqueue(JobSpec(kind, payload, **spec))
    await harness.work(store, shared=resources(store, data_dir), timeout=120)
    return await store.get(job.id)


@contextlib.asynccontextmanager
async def serving(store: JobStore, data_dir: Path) -> AsyncIterator[WorkerProcess]:
    """A worker running in the background (not in burst mode) until the block ends."""
    worker = harness.worker(store, shared=resources(store, data_dir), burst=False)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, timeout=30)


def upload(data_dir: Path, content: bytes, suffix: str = ".csv") -> str:
    """Put ``content`` where imports read files; its path relative to ``data_dir``."""
    relative = f"uploads/{uuid.uuid4().hex}{suffix}"
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return relative


async def records(
    store: JobStore, name: str, states: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """A dataset's records by the first value of their key (``_`` joined if several)."""
    datasets = DatasetStore(store.db)
    dataset = await datasets.get(name)
    found: dict[str, dict[str, Any]] = {}
    after = 0
    where = RecordFilter(states=tuple(states))
    while rows := await datasets.records_after(dataset["id"], after, 500, where):
        after = rows[-1]["id"]
        for row in rows:
            label = "_".join(str(v) for v in row["key"].values()) or row["key_hash"]
            found[label] = row
    return found


async def states(store: JobStore, name: str) -> dict[str, str]:
    """Each record's state, by key."""
    return {label: row["state"] for label, row in (await records(store, name)).items()}
