"""Leases: heartbeats, expiry and rescue, the poison-job cap, and fencing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import EventType, Job, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from tests.support.waiting import until


async def _expire(store: JobStore, job: Job) -> list[int]:
    """Wait for ``job``'s short lease to run out and rescue it; the ids rescued."""

    async def rescued() -> list[int]:
        report = await store.rescue_expired()
        return report.requeued + report.failed + report.cancelled

    ids = await until(rescued, timeout=5)
    assert job.id in ids
    return ids


async def test_heartbeat_extends_the_lease_and_reports_held_jobs(store: JobStore) -> None:
    await store.enqueue_many([JobSpec("noop"), JobSpec("noop")])
    claimed = await store.claim("w", ["default"], limit=2, lease=1)

    held = await store.heartbeat("w", lease=60)

    assert set(held) == {job.id for job in claimed}
    assert all(lease.token == claimed[0].lease_token for lease in held.values())
    after = await store.get(claimed[0].id)
    assert after.lease_expires_at is not None and claimed[0].lease_expires_at is not None
    assert after.lease_expires_at > claimed[0].lease_expires_at
    assert (await store.rescue_expired()).total == 0


async def test_expired_lease_is_rescued_with_the_attempt_counted(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("dead-worker", ["default"], lease=0.2)

    await _expire(store, job)

    rescued = await store.get(job.id)
    assert rescued.status is JobStatus.QUEUED
    assert rescued.attempts == 1
    assert rescued.lease_owner is None
    assert rescued.error is not None and rescued.error["type"] == "LeaseExpired"
    assert (await store.events(job.id))[-1].type is EventType.RESCUED

    [again] = await store.claim("other", ["default"])
    assert again.id == job.id and again.attempts == 2


async def test_job_that_keeps_losing_its_worker_fails_when_attempts_run_out(
    store: JobStore,
) -> None:
    await store.enqueue(JobSpec("noop", max_attempts=2))
    for expected in (JobStatus.QUEUED, JobStatus.FAILED):
        [job] = await store.claim("w", ["default"], lease=0.2)
        await _expire(store, job)
        assert (await store.get(job.id)).status is expected

    failed = await store.get(job.id)
    assert failed.attempts == 2
    assert failed.finished_at is not None
    assert failed.error is not None and failed.error["type"] == "LeaseExpired"
    assert await store.claim("w", ["default"]) == []


async def test_rescue_cancels_a_job_whose_cancellation_was_requested(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"], lease=0.2)
    await store.cancel(job.id)

    await _expire(store, job)
    assert (await store.get(job.id)).status is JobStatus.CANCELLED


async def test_a_worker_that_lost_its_lease_changes_nothing(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [stale] = await store.claim("slow", ["default"], lease=0.2)
    await _expire(store, stale)
    [fresh] = await store.claim("fast", ["default"], lease=60)
    assert fresh.id == stale.id

    with pytest.raises(errors.LeaseLost):
        await store.complete(stale, "stale result")
    with pytest.raises(errors.LeaseLost):
        await store.fail(stale, {"type": "X", "message": "stale"})
    with pytest.raises(errors.LeaseLost):
        await store.set_progress(stale, {"done": 1})
    with pytest.raises(errors.LeaseLost):
        await store.release(stale)
    assert await store.complete_many([(stale, "stale")]) == [stale.id]
    assert "slow" not in {lease.token for lease in (await store.heartbeat("slow")).values()}
    assert await store.heartbeat("slow") == {}

    current = await store.get(fresh.id)
    assert current.status is JobStatus.RUNNING
    assert current.lease_owner == "fast"
    assert current.progress is None

    await store.complete(fresh, "fresh result")
    done = await store.get(fresh.id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.result == "fresh result"


async def test_writes_in_a_transaction_roll_back_with_a_refused_completion(
    store: JobStore,
) -> None:
    await store.enqueue(JobSpec("noop"))
    [stale] = await store.claim("slow", ["default"], lease=0.2)
    await _expire(store, stale)
    await store.claim("fast", ["default"])

    with pytest.raises(errors.LeaseLost):
        async with store.transaction() as tx:
            await store.enqueue(JobSpec("noop", {"follow": "up"}), conn=tx)
            await store.complete(stale, conn=tx)

    assert (await store.status_counts())["queued"] == 0


async def test_writes_in_a_transaction_commit_with_the_completion(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])

    async with store.transaction() as tx:
        follow_up = await store.enqueue(JobSpec("noop", {"follow": "up"}), conn=tx)
        await store.complete(job, {"next": follow_up.id}, conn=tx)

    assert (await store.get(job.id)).result == {"next": follow_up.id}
    assert (await store.get(follow_up.id)).status is JobStatus.QUEUED


async def test_release_hands_the_job_back_without_counting_the_attempt(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])

    await store.release(job)

    back = await store.get(job.id)
    assert back.status is JobStatus.QUEUED
    assert back.attempts == 0
    assert (await store.events(job.id))[-1].type is EventType.RELEASED
    [again] = await store.claim("w", ["default"])
    assert again.attempts == 1


async def test_progress_is_stored_for_the_lease_holder(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    [job] = await store.claim("w", ["default"])
    await store.set_progress(job, {"done": 3, "total": 10})
    assert (await store.get(job.id)).progress == {"done": 3, "total": 10}


async def test_a_worker_never_rescues_its_own_late_jobs(store: JobStore) -> None:
    [job_id] = await store.enqueue_many([JobSpec("noop")])
    [claimed] = await store.claim("alive", ["default"], lease=0.2)
    assert claimed.lease_expires_at is not None
    lease_end = claimed.lease_expires_at

    async def lease_passed() -> bool:
        return datetime.now(UTC) > lease_end + timedelta(milliseconds=50)

    await until(lease_passed, timeout=5, interval=0.05)
    # The worker itself sees its lease run out, and leaves the job alone...
    assert (await store.rescue_expired(spare="alive")).total == 0
    assert (await store.get(job_id)).status is JobStatus.RUNNING
    # ...while any other worker takes it back.
    report = await store.rescue_expired(spare="someone-else")
    assert report.requeued == [job_id]
    assert (await store.get(job_id)).status is JobStatus.QUEUED
