"""Two write transactions that deadlock: the victim says it may simply run again."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs


async def test_a_deadlock_victim_raises_a_retryable_conflict(store: JobStore) -> None:
    if store.db.backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: its transactions cannot deadlock")
    first, second = await store.enqueue_many([JobSpec("noop"), JobSpec("noop")])
    both_hold_one = asyncio.Barrier(2)

    async def lock_in_order(a: int, b: int) -> None:
        async with store.db.write() as tx:
            await tx.execute(sa.update(jobs).where(jobs.c.id == a).values(priority=1))
            await both_hold_one.wait()
            await tx.execute(sa.update(jobs).where(jobs.c.id == b).values(priority=2))

    outcomes = await asyncio.wait_for(
        asyncio.gather(
            lock_in_order(first, second), lock_in_order(second, first), return_exceptions=True
        ),
        timeout=30,
    )

    conflicts = [o for o in outcomes if isinstance(o, errors.TransactionConflict)]
    assert len(conflicts) == 1, outcomes
    assert "deadlock" in str(conflicts[0])
    # A kind of DatabaseUnavailable: every caller that retries those retries this too.
    assert isinstance(conflicts[0], errors.DatabaseUnavailable)
    assert outcomes.count(None) == 1
