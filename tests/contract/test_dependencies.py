"""Jobs that wait for others: dependencies and chains."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import EventType, Job, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore

BOOM = {"type": "ValueError", "message": "boom"}


async def _run(store: JobStore, job_id: int) -> Job:
    """Claim exactly ``job_id`` (the only ready job) and return it, running."""
    [job] = await store.claim("w", ["default"])
    assert job.id == job_id
    return job


async def test_a_dependent_waits_until_every_dependency_succeeded(store: JobStore) -> None:
    a = await store.enqueue(JobSpec("noop", {"n": "a"}))
    b = await store.enqueue(JobSpec("noop", {"n": "b"}))
    c = await store.enqueue(JobSpec("noop", {"n": "c"}, depends_on=(a.id, b.id)))
    assert c.status is JobStatus.WAITING
    assert await store.dependencies(c.id) == [a.id, b.id]

    claimed = await store.claim("w", ["default"], limit=10)
    assert {job.id for job in claimed} == {a.id, b.id}, "a waiting job was claimed"
    await store.complete(next(job for job in claimed if job.id == a.id))
    assert (await store.get(c.id)).status is JobStatus.WAITING
    await store.complete(next(job for job in claimed if job.id == b.id))

    ready = await store.get(c.id)
    assert ready.status is JobStatus.QUEUED
    assert (await store.events(c.id))[-1].type is EventType.UNBLOCKED
    assert [job.id for job in await store.claim("w", ["default"])] == [c.id]


async def test_a_final_failure_cancels_the_dependents_down_the_line(store: JobStore) -> None:
    a = await store.enqueue(JobSpec("noop", max_attempts=1))
    b = await store.enqueue(JobSpec("noop", depends_on=(a.id,)))
    c = await store.enqueue(JobSpec("noop", depends_on=(b.id,)))
    await store.fail(await _run(store, a.id), BOOM)

    for dependent, cause in (
        (b, f"job {a.id} it depends on failed"),
        (c, f"job {b.id} it depends on was cancelled"),
    ):
        ended = await store.get(dependent.id)
        assert ended.status is JobStatus.CANCELLED
        assert ended.error == {"type": "DependencyFailed", "message": cause}
        assert (await store.events(dependent.id))[-1].message == cause


async def test_a_retryable_failure_keeps_dependents_waiting(store: JobStore) -> None:
    a = await store.enqueue(JobSpec("noop", max_attempts=3))
    b = await store.enqueue(JobSpec("noop", depends_on=(a.id,)))
    await store.fail(await _run(store, a.id), BOOM, retry_in=0)
    assert (await store.get(b.id)).status is JobStatus.WAITING


async def test_cancelling_a_dependency_cancels_the_dependents(store: JobStore) -> None:
    a = await store.enqueue(JobSpec("noop", delay=60))
    b = await store.enqueue(JobSpec("noop", depends_on=(a.id,)))
    await store.cancel(a.id)
    assert (await store.get(b.id)).status is JobStatus.CANCELLED


async def test_retrying_a_cancelled_dependent_waits_again(store: JobStore) -> None:
    a = await store.enqueue(JobSpec("noop", max_attempts=1))
    b = await store.enqueue(JobSpec("noop", depends_on=(a.id,)))
    await store.fail(await _run(store, a.id), BOOM)
    await store.retry(a.id)
    again = await store.retry(b.id)
    assert again.status is JobStatus.WAITING
    await store.complete(await _run(store, a.id))
    assert (await store.get(b.id)).status is JobStatus.QUEUED


async def test_depending_on_finished_or_missing_jobs(store: JobStore) -> None:
    done = await store.enqueue(JobSpec("noop"))
    await store.complete(await _run(store, done.id))
    ready = await store.enqueue(JobSpec("noop", depends_on=(done.id,)))
    assert ready.status is JobStatus.QUEUED

    failed = await store.enqueue(JobSpec("noop", max_attempts=1, queue="other"))
    [running] = await store.claim("w", ["other"])
    await store.fail(running, BOOM)
    with pytest.raises(errors.InvalidInput) as dead:
        await store.enqueue(JobSpec("noop", depends_on=(done.id, failed.id)))
    assert dead.value.field == "depends_on[1]" and "could never run" in str(dead.value)
    with pytest.raises(errors.InvalidInput) as missing:
        await store.enqueue(JobSpec("noop", depends_on=(999_999,)))
    assert missing.value.field == "depends_on[0]"
    with pytest.raises(errors.InvalidInput):
        JobSpec("noop", depends_on=(0,))


async def test_a_chain_runs_in_order_as_one_unit(store: JobStore) -> None:
    chain = await store.enqueue_chain([JobSpec("noop", {"step": n}) for n in range(3)])
    first = chain[0]
    assert [job.chain_id for job in chain] == [first.id] * 3
    assert [job.status for job in chain] == [
        JobStatus.QUEUED,
        JobStatus.WAITING,
        JobStatus.WAITING,
    ]
    for expected in chain:
        await store.complete(await _run(store, expected.id))
    assert [job.status for job in await store.chain(first.id)] == [JobStatus.SUCCEEDED] * 3
    assert await store.dependencies(chain[2].id) == [chain[1].id]


async def test_a_bad_step_refuses_the_whole_chain(store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await store.enqueue_chain([JobSpec("noop"), JobSpec("nope")])
    assert caught.value.field == "jobs[1].kind"
    assert sum((await store.status_counts()).values()) == 0
    with pytest.raises(errors.InvalidInput, match="2 to"):
        await store.enqueue_chain([JobSpec("noop")])
