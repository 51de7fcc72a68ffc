"""Retention: records unseen for their dataset's retention are archived, then removed."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from scrapeyard.queue.datasets import DatasetStore
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import dataset_records, jobs
from scrapeyard.worker import archive_jobs
from tests.crawl import harness
from tests.support import datasets


async def _age(store: JobStore, skus: list[str], days: float) -> None:
    """Make the records of ``skus`` look last seen ``days`` ago."""
    async with store.db.read() as conn:
        rows = (await conn.execute(sa.select(dataset_records))).mappings().all()
    async with store.transaction() as tx:
        for row in rows:
            if row["key"].get("sku") in skus:
                await tx.execute(
                    sa.update(dataset_records)
                    .where(dataset_records.c.id == row["id"])
                    .values(last_seen_at=row["last_seen_at"] - timedelta(days=days))
                )


async def test_expired_records_are_archived_then_removed(store: JobStore, data_dir: Path) -> None:
    payload = {
        "dataset": "leads",
        "file": datasets.upload(data_dir, b"sku,name\nA,old\nB,older\nC,fresh\n"),
        "key": ["sku"],
        "retention": "30d",
    }
    job = await datasets.run_job(store, "import", payload, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    await _age(store, ["A", "B"], 31)

    # The maintenance unit finds expired records and enqueues one archive job.
    await archive_jobs.maintain(store)
    await archive_jobs.maintain(store)
    async with store.db.read() as conn:
        queued = (
            (await conn.execute(sa.select(jobs.c.payload).where(jobs.c.kind == "dataset.archive")))
            .scalars()
            .all()
        )
    assert queued == [{"dataset": "leads"}]

    await harness.work(store, shared=datasets.resources(store, data_dir))
    archived = list((data_dir / "archives/leads").glob("*.jsonl.gz"))
    assert len(archived) == 1
    lines = [json.loads(line) for line in gzip.decompress(archived[0].read_bytes()).splitlines()]
    assert sorted((r["key"]["sku"], r["data"]["name"]) for r in lines) == [
        ("A", "old"),
        ("B", "older"),
    ]
    assert set(await datasets.states(store, "leads")) == {"C"}
    # Nothing left to archive: no job, no file.
    await archive_jobs.maintain(store)
    async with store.db.read() as conn:
        count = await conn.scalar(
            sa.select(sa.func.count()).where(
                jobs.c.kind == "dataset.archive", jobs.c.status == "queued"
            )
        )
    assert count == 0


async def test_a_dataset_without_retention_keeps_everything(
    store: JobStore, data_dir: Path
) -> None:
    payload = {"dataset": "keep", "file": datasets.upload(data_dir, b"sku\nA\n"), "key": ["sku"]}
    await datasets.run_job(store, "import", payload, data_dir)
    await _age(store, ["A"], 3650)
    job = await datasets.run_job(store, "dataset.archive", {}, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result == {"archived": {}}
    assert set(await datasets.states(store, "keep")) == {"A"}
    dataset = await DatasetStore(store.db).get("keep")
    assert dataset["retention"] is None
