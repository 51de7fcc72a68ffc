"""Claiming: order, limits, queues, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scrapeyard.queue.jobs import EventType, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from tests.support.waiting import until


async def test_claims_by_priority_then_run_at_then_insertion(store: JobStore) -> None:
    past = datetime.now(UTC) - timedelta(minutes=5)
    low = await store.enqueue(JobSpec("noop", {"n": "low"}, priority=-5))
    normal_1 = await store.enqueue(JobSpec("noop", {"n": "normal-1"}))
    normal_2 = await store.enqueue(JobSpec("noop", {"n": "normal-2"}))
    older = await store.enqueue(JobSpec("noop", {"n": "older"}, run_at=past))
    high = await store.enqueue(JobSpec("noop", {"n": "high"}, priority=10))

    claimed = await store.claim("w", ["default"], limit=10)

    assert [job.id for job in claimed] == [high.id, older.id, normal_1.id, normal_2.id, low.id]


async def test_claim_takes_at_most_limit_and_each_job_once(store: JobStore) -> None:
    await store.enqueue_many([JobSpec("noop", {"i": i}) for i in range(5)])
    first = await store.claim("a", ["default"], limit=3)
    second = await store.claim("b", ["default"], limit=3)
    third = await store.claim("c", ["default"], limit=3)

    assert len(first) == 3
    assert len(second) == 2
    assert third == []
    assert {j.id for j in first}.isdisjoint({j.id for j in second})


async def test_claim_only_from_the_named_queues(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop", queue="mail"))
    crawl = await store.enqueue(JobSpec("noop", queue="crawl"))

    assert await store.claim("w", ["default"], limit=5) == []
    claimed = await store.claim("w", ["crawl", "default"], limit=5)
    assert [job.id for job in claimed] == [crawl.id]


async def test_claim_leases_the_job_and_counts_an_attempt(store: JobStore) -> None:
    queued = await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("worker-1", ["default"], lease=30)

    assert job.id == queued.id
    assert job.status is JobStatus.RUNNING
    assert job.attempts == 1
    assert job.lease_owner == "worker-1"
    assert job.lease_token
    assert job.lease_expires_at is not None
    assert job.started_at is not None
    assert timedelta(seconds=25) < job.lease_expires_at - job.started_at <= timedelta(seconds=31)
    events = await store.events(job.id)
    assert [(e.type, e.attempt, e.worker) for e in events][-1] == (
        EventType.STARTED,
        1,
        "worker-1",
    )


async def test_delayed_job_is_claimed_only_when_due(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop", delay=0.5))
    assert job.status is JobStatus.SCHEDULED
    assert await store.claim("w", ["default"]) == []

    claimed = await until(lambda: store.claim("w", ["default"]), timeout=5)
    assert [j.id for j in claimed] == [job.id]


async def test_paused_queue_is_not_claimed_until_resumed(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop", queue="crawl"))
    await store.set_paused("crawl", True)

    assert await store.claim("w", ["crawl"]) == []
    assert await store.paused_queues() == {"crawl"}

    await store.set_paused("crawl", False)
    assert [j.id for j in await store.claim("w", ["crawl"])] == [job.id]


async def test_promote_scheduled_marks_due_jobs_queued(store: JobStore) -> None:
    due = await store.enqueue(JobSpec("noop", run_at=datetime.now(UTC) + timedelta(seconds=0.2)))
    later = await store.enqueue(JobSpec("noop", delay=3600))

    async def promoted() -> bool:
        await store.promote_scheduled()
        return (await store.get(due.id)).status is JobStatus.QUEUED

    await until(promoted, timeout=5)
    assert (await store.get(later.id)).status is JobStatus.SCHEDULED


async def test_next_run_at_is_the_earliest_waiting_job(store: JobStore) -> None:
    assert await store.next_run_at(["default"]) is None
    soon = await store.enqueue(JobSpec("noop", delay=30))
    await store.enqueue(JobSpec("noop", delay=300))
    assert await store.next_run_at(["default"]) == soon.run_at
