"""What operators do to jobs: cancel, retry, delete, purge."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import TRANSITIONS, EventType, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from tests.support.waiting import until


async def test_cancel_a_queued_job_at_once(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop", delay=60))
    cancelled = await store.cancel(job.id, reason="changed my mind")

    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.finished_at is not None
    event = (await store.events(job.id))[-1]
    assert (event.type, event.message) == (EventType.CANCELLED, "changed my mind")
    assert await store.claim("w", ["default"]) == []


async def test_cancel_a_running_job_reaches_its_worker_by_heartbeat(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])
    assert not (await store.heartbeat("w"))[job.id].cancel_requested

    flagged = await store.cancel(job.id)
    assert flagged.status is JobStatus.RUNNING
    assert flagged.cancel_requested
    assert (await store.heartbeat("w"))[job.id].cancel_requested

    await store.confirm_cancelled(job, message="stopped by request")
    assert (await store.get(job.id)).status is JobStatus.CANCELLED
    types = [e.type for e in await store.events(job.id)]
    assert types[-2:] == [EventType.CANCEL_REQUESTED, EventType.CANCELLED]


async def test_cancelling_twice_while_running_is_harmless(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])
    await store.cancel(job.id)
    await store.cancel(job.id)
    types = [e.type for e in await store.events(job.id)]
    assert types.count(EventType.CANCEL_REQUESTED) == 1


async def test_cancel_a_finished_job_is_refused(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])
    await store.complete(job)

    with pytest.raises(errors.InvalidTransition, match="it is succeeded"):
        await store.cancel(job.id)


async def test_unknown_job_ids_raise_job_not_found(store: JobStore) -> None:
    for action in (store.cancel, store.retry, store.delete, store.get, store.events):
        with pytest.raises(errors.JobNotFound):
            await action(999_999)


async def test_retry_a_failed_job_starts_it_afresh(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop", max_attempts=1))
    [job] = await store.claim("w", ["default"])
    await store.fail(job, {"type": "X", "message": "boom"})

    retried = await store.retry(job.id)

    assert retried.status is JobStatus.QUEUED
    assert retried.attempts == 0
    assert retried.finished_at is None
    assert (await store.events(job.id))[-1].type is EventType.RETRIED
    [again] = await store.claim("w", ["default"])
    assert again.id == job.id and again.attempts == 1


async def test_retry_a_cancelled_job(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    await store.cancel(job.id)
    assert (await store.retry(job.id)).status is JobStatus.QUEUED


async def test_retry_is_refused_for_unfinished_or_succeeded_jobs(store: JobStore) -> None:
    queued = await store.enqueue(JobSpec("noop"))
    with pytest.raises(errors.InvalidTransition):
        await store.retry(queued.id)
    [job] = await store.claim("w", ["default"])
    await store.complete(job)
    with pytest.raises(errors.InvalidTransition):
        await store.retry(job.id)


async def test_retry_refused_while_another_job_holds_the_unique_key(store: JobStore) -> None:
    first = await store.enqueue(JobSpec("noop", unique_key="k"))
    await store.cancel(first.id)
    await store.enqueue(JobSpec("noop", unique_key="k"))
    with pytest.raises(errors.InvalidTransition, match="unique_key"):
        await store.retry(first.id)
    assert (await store.get(first.id)).status is JobStatus.CANCELLED


async def test_delete_removes_the_job_and_its_history(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    keep = await store.enqueue(JobSpec("noop"))
    await store.delete(job.id)

    with pytest.raises(errors.JobNotFound):
        await store.get(job.id)
    assert len(await store.events(keep.id)) == 1
    assert sum((await store.status_counts()).values()) == 1


async def test_delete_a_running_job_is_refused(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])
    with pytest.raises(errors.InvalidTransition, match="running"):
        await store.delete(job.id)


async def test_purge_removes_only_old_finished_jobs(store: JobStore) -> None:
    ids = await store.enqueue_many([JobSpec("noop") for _ in range(4)])
    claimed = await store.claim("w", ["default"], limit=2)
    await store.complete_many([(job, None) for job in claimed])

    assert await store.purge_finished(older_than=3600) == 0
    await until(lambda: store.purge_finished(older_than=0.01, batch=1), timeout=5)

    remaining = await store.get_many(ids)
    assert set(remaining) == set(ids) - {job.id for job in claimed}
    assert all(job.status is JobStatus.QUEUED for job in remaining.values())


async def test_every_status_change_is_in_the_transition_table(store: JobStore) -> None:
    """Walk every path the store offers and check each step against TRANSITIONS."""
    seen: list[tuple[JobStatus, JobStatus]] = []

    async def step(job_id: int, before: JobStatus) -> JobStatus:
        after = (await store.get(job_id)).status
        if after is not before:
            seen.append((before, after))
        return after

    a = await store.enqueue(JobSpec("noop", max_attempts=2))
    [job] = await store.claim("w", ["default"])
    await step(a.id, JobStatus.QUEUED)
    await store.fail(job, {"type": "X"}, retry_in=30)
    status = await step(a.id, JobStatus.RUNNING)
    await store.cancel(a.id)
    status = await step(a.id, status)
    await store.retry(a.id)
    status = await step(a.id, status)
    [job] = await store.claim("w", ["default"])
    status = await step(a.id, status)
    await store.release(job)
    status = await step(a.id, status)
    [job] = await store.claim("w", ["default"])
    status = await step(a.id, status)
    await store.fail(job, {"type": "X"}, permanent=True)
    status = await step(a.id, status)
    await store.retry(a.id)
    status = await step(a.id, status)
    [job] = await store.claim("w", ["default"])
    status = await step(a.id, status)
    await store.cancel(a.id)
    await store.confirm_cancelled(job)
    await step(a.id, status)

    assert seen
    for before, after in seen:
        assert after in TRANSITIONS[before], (before, after)


async def test_move_a_waiting_job_to_another_queue(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    moved = await store.move(job.id, "elsewhere")
    assert moved.queue == "elsewhere"
    assert await store.claim("w", ["default"]) == []
    [claimed] = await store.claim("w", ["elsewhere"])
    with pytest.raises(errors.InvalidTransition):
        await store.move(claimed.id, "default")
