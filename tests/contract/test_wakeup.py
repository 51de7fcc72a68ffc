"""Wake-ups: idle claimers learn of new jobs without waiting for their poll."""

from __future__ import annotations

import asyncio

import pytest

from scrapeyard import connect
from scrapeyard.queue import wakeup
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore


async def test_enqueue_wakes_waiters_in_the_same_process(store: JobStore) -> None:
    waiter = asyncio.create_task(store.wakeup.wait(["default"], timeout=10))
    await asyncio.sleep(0)
    await store.enqueue(JobSpec("noop"))
    assert await asyncio.wait_for(waiter, timeout=5) is True


async def test_wait_ignores_other_queues_and_times_out(store: JobStore) -> None:
    waiter = asyncio.create_task(store.wakeup.wait(["default"], timeout=0.2))
    await asyncio.sleep(0)
    await store.enqueue(JobSpec("noop", queue="other"))
    assert await waiter is False


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgres_notify_reaches_another_connection(
    store: JobStore, database_url: str
) -> None:
    signal = wakeup.Wakeup()
    listener = wakeup.PostgresListener(store.db.engine, signal)
    listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), timeout=10)
        waiter = asyncio.create_task(signal.wait(["crawl"], timeout=10))
        await asyncio.sleep(0)
        async with connect.open_store(database_url=database_url) as producer:
            await producer.enqueue(JobSpec("noop", queue="crawl"))
        assert await asyncio.wait_for(waiter, timeout=5) is True
    finally:
        await listener.stop()
