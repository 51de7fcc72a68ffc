"""Processes that hammer the store, for the concurrency tests (run with spawn)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from scrapeyard import connect
from scrapeyard.queue.jobs import JobSpec


def claim_until_empty(
    url: str, worker: str, log: str, batch: int, start: Any | None = None
) -> None:
    """Claim and complete jobs until none is left, appending each executed id to ``log``.

    With ``start`` (a ``multiprocessing.Barrier``), begin claiming only once every
    claimer is ready, so a claimer that starts slowly still races the others.
    """
    asyncio.run(_claim_until_empty(url, worker, Path(log), batch, start))


async def _claim_until_empty(
    url: str, worker: str, log: Path, batch: int, start: Any | None
) -> None:
    async with connect.open_store(database_url=url) as store:
        await store.status_counts()  # connected and migrated before the race starts
        if start is not None:
            start.wait(timeout=120)
        with log.open("a") as out:
            while True:
                claimed = await store.claim(worker, ["default"], batch)
                if not claimed:
                    counts = await store.status_counts()
                    if counts["queued"] + counts["scheduled"] + counts["running"] == 0:
                        return
                    await asyncio.sleep(0.01)
                    continue
                for job in claimed:
                    out.write(f"{job.id}\n")
                out.flush()
                refused = await store.complete_many([(job, None) for job in claimed])
                assert not refused, refused


def enqueue_unique(url: str, key: str, count: int, out: str) -> None:
    """Enqueue ``count`` jobs with the same unique key; write the ids returned."""
    asyncio.run(_enqueue_unique(url, key, count, Path(out)))


async def _enqueue_unique(url: str, key: str, count: int, out: Path) -> None:
    async with connect.open_store(database_url=url) as store:
        ids = [(await store.enqueue(JobSpec("noop", unique_key=key))).id for _ in range(count)]
    out.write_text("\n".join(str(i) for i in ids))
