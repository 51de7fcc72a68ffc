"""Reading jobs back: filters, pagination, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import EventType, JobSpec, JobStatus
from scrapeyard.queue.queries import JobFilter
from scrapeyard.queue.store import JobStore


async def test_list_pages_newest_first_with_a_cursor(store: JobStore) -> None:
    ids = await store.enqueue_many([JobSpec("noop", {"i": i}) for i in range(7)])

    seen: list[int] = []
    cursor = None
    while True:
        page = await store.list_jobs(limit=3, cursor=cursor)
        seen += [job.id for job in page.jobs]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


async def test_list_filters_combine(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop", queue="a"))
    b = await store.enqueue(JobSpec("noop", queue="b"))
    b_running = await store.enqueue(JobSpec("noop", queue="b"))
    await store.claim("w", ["b"], limit=1)

    only_b = await store.list_jobs(JobFilter(queue="b"))
    assert {job.id for job in only_b.jobs} == {b.id, b_running.id}
    running = await store.list_jobs(JobFilter(queue="b", status=[JobStatus.RUNNING]))
    assert [job.id for job in running.jobs] == [b.id]
    assert (await store.list_jobs(JobFilter(kind="other"))).jobs == []


async def test_list_by_created_range(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    hour = timedelta(hours=1)
    now = datetime.now(UTC)
    assert [j.id for j in (await store.list_jobs(JobFilter(created_after=now - hour))).jobs] == [
        job.id
    ]
    assert (await store.list_jobs(JobFilter(created_before=now - hour))).jobs == []


async def test_a_forged_cursor_is_refused(store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await store.list_jobs(cursor="not-a-cursor")
    assert caught.value.field == "cursor"


async def test_page_size_is_bounded(store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput, match="limit"):
        await store.list_jobs(limit=5000)


async def test_counts_by_queue_and_status(store: JobStore) -> None:
    await store.enqueue_many([JobSpec("noop"), JobSpec("noop"), JobSpec("noop", queue="mail")])
    [job] = await store.claim("w", ["default"])
    await store.complete(job)
    await store.set_paused("mail", True)

    assert await store.counts() == {
        "default": {"queued": 1, "succeeded": 1},
        "mail": {"queued": 1},
    }
    totals = await store.status_counts()
    assert totals["queued"] == 2 and totals["succeeded"] == 1 and totals["failed"] == 0
    queues = {q.name: q for q in await store.queues()}
    assert queues["mail"].paused and not queues["default"].paused


async def test_job_with_history_in_one_read(store: JobStore) -> None:
    queued = await store.enqueue(JobSpec("noop"))
    job, history = await store.with_history(queued.id)
    assert job == queued
    assert [event.type for event in history] == [EventType.ENQUEUED]
    with pytest.raises(errors.JobNotFound):
        await store.with_history(queued.id + 1000)


def test_cursors_outside_the_id_range_are_refused() -> None:
    from scrapeyard.queue import queries

    for position in (0, -5, 2**63):
        with pytest.raises(errors.InvalidInput):
            queries.decode_cursor(queries.encode_cursor(position))
