"""Failing attempts: backoff schedule, RetryLater delays, permanent failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scrapeyard.queue.jobs import EventType, Job, JobSpec, JobStatus
from scrapeyard.queue.retry import RetryPolicy
from scrapeyard.queue.store import JobStore
from tests.support.waiting import until

BOOM = {"type": "ValueError", "message": "boom", "traceback": "Traceback ..."}


async def _claim(store: JobStore) -> Job:
    [job] = await store.claim("w", ["default"])
    return job


def test_exponential_backoff_schedule_is_capped() -> None:
    policy = RetryPolicy(base_delay=5, max_delay=60, jitter=0)
    assert [policy.delay(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert policy.delay(10_000) == 60


def test_jitter_takes_at_most_its_fraction_off() -> None:
    low = RetryPolicy(base_delay=10, jitter=0.5, random=lambda: 1.0)
    high = RetryPolicy(base_delay=10, jitter=0.5, random=lambda: 0.0)
    assert low.delay(1) == 5.0
    assert high.delay(1) == 10.0


def test_explicit_delays_repeat_the_last_one() -> None:
    policy = RetryPolicy(delays=(60, 300, 900), jitter=0)
    assert [policy.delay(n) for n in range(1, 6)] == [60, 300, 900, 900, 900]


def test_fixed_backoff() -> None:
    assert RetryPolicy(backoff="fixed", base_delay=7, jitter=0).delay(5) == 7


async def test_failure_schedules_a_retry_after_the_backoff(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop", retry=RetryPolicy(base_delay=30, jitter=0)))
    job = await _claim(store)

    status = await store.fail(job, BOOM)

    assert status is JobStatus.SCHEDULED
    failed = await store.get(job.id)
    assert failed.status is JobStatus.SCHEDULED
    assert failed.error is not None
    assert failed.error["message"] == "boom" and failed.error["attempt"] == 1
    assert job.started_at is not None
    assert timedelta(seconds=29) < failed.run_at - job.started_at < timedelta(seconds=32)
    event = (await store.events(job.id))[-1]
    assert event.type is EventType.RETRY_SCHEDULED
    assert event.message == "ValueError: boom"
    assert event.data == {"delay": 30.0}
    assert await store.claim("w", ["default"]) == []


async def test_backoff_grows_with_each_attempt(store: JobStore) -> None:
    await store.enqueue(
        JobSpec("noop", max_attempts=4, retry=RetryPolicy(base_delay=0.1, jitter=0))
    )
    delays = []
    for _ in range(3):
        job = await _claim_when_ready(store)
        await store.fail(job, BOOM)
        delays.append((await store.events(job.id))[-1].data)
    assert delays == [{"delay": 0.1}, {"delay": 0.2}, {"delay": 0.4}]


async def _claim_when_ready(store: JobStore) -> Job:
    [job] = await until(lambda: store.claim("w", ["default"]), timeout=5)
    return job


async def test_retry_later_overrides_the_backoff(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    job = await _claim(store)

    assert await store.fail(job, BOOM, retry_in=0) is JobStatus.QUEUED
    assert [j.id for j in await store.claim("w", ["default"])] == [job.id]


async def test_permanent_failure_does_not_retry(store: JobStore) -> None:
    await store.enqueue(JobSpec("noop", max_attempts=5))
    job = await _claim(store)

    assert await store.fail(job, BOOM, permanent=True) is JobStatus.FAILED
    failed = await store.get(job.id)
    assert failed.finished_at is not None
    assert (await store.events(job.id))[-1].type is EventType.FAILED


@pytest.mark.parametrize("max_attempts", [1, 2])
async def test_failure_on_the_last_attempt_is_final(store: JobStore, max_attempts: int) -> None:
    await store.enqueue(JobSpec("noop", max_attempts=max_attempts))
    for _ in range(max_attempts - 1):
        await store.fail(await _claim(store), BOOM, retry_in=0)
    last = await _claim(store)
    assert last.attempts == max_attempts
    assert await store.fail(last, BOOM) is JobStatus.FAILED
