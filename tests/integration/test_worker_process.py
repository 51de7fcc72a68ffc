"""A worker process's behaviour, run in the test's event loop against a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from scrapeyard import config, connect
from scrapeyard.queue.jobs import EventType, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.workers import WorkerRegistry, WorkerState
from scrapeyard.worker import events
from scrapeyard.worker.process import ExitCode, WorkerOptions, WorkerProcess
from scrapeyard.worker.queues import QueueSelector
from tests.support import kinds
from tests.support.inprocess import running_worker
from tests.support.waiting import until

assert kinds  # registers the test job kinds


@pytest.fixture
async def short_lease_store(database_url: str) -> AsyncIterator[JobStore]:
    settings = config.load_settings(
        database_url=database_url, queue={"lease_duration": 1.0, "heartbeat_interval": 0.2}
    )
    async with connect.open_store(settings) as store:
        yield store


async def _status(store: JobStore, job_id: int, *wanted: JobStatus) -> JobStatus | None:
    status = (await store.get(job_id)).status
    return status if status in wanted else None


async def wait_for_status(
    store: JobStore, job_id: int, *wanted: JobStatus, timeout: float = 15
) -> JobStatus:
    return await until(lambda: _status(store, job_id, *wanted), timeout=timeout)


def executions(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


async def test_runs_a_job_to_success_and_emits_hooks(store: JobStore) -> None:
    hooks = events.Hooks()
    seen: list[tuple[str, Any]] = []
    hooks.subscribe("job_started", lambda job, **_: seen.append(("started", job.id)))
    hooks.subscribe("job_succeeded", lambda job, result, **_: seen.append(("ok", result)))
    job = await store.enqueue(JobSpec("noop", {"hello": "world"}))

    async with running_worker(store, hooks=hooks):
        await wait_for_status(store, job.id, JobStatus.SUCCEEDED)

    done = await store.get(job.id)
    assert done.result == {"hello": "world"}
    assert [e.type for e in await store.events(job.id)] == [
        EventType.ENQUEUED,
        EventType.STARTED,
        EventType.SUCCEEDED,
    ]
    assert seen == [("started", job.id), ("ok", {"hello": "world"})]


async def test_a_hook_that_raises_never_breaks_the_worker(store: JobStore) -> None:
    hooks = events.Hooks()

    def explode(**_: Any) -> None:
        raise RuntimeError("hook bug")

    hooks.subscribe("job_started", explode)
    hooks.subscribe("job_succeeded", explode)
    ids = await store.enqueue_many([JobSpec("noop") for _ in range(3)])
    async with running_worker(store, hooks=hooks):
        for job_id in ids:
            await wait_for_status(store, job_id, JobStatus.SUCCEEDED)


async def test_failures_retry_then_fail_for_good(store: JobStore, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    job = await store.enqueue(
        JobSpec("test.fail", {"log": str(log), "how": "retry_later"}, max_attempts=3)
    )
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.FAILED)

    failed = await store.get(job.id)
    assert [run[1] for run in executions(log)] == ["1", "2", "3"]
    assert failed.error is not None and failed.error["type"] == "RetryLater"
    types = [e.type for e in await store.events(job.id)]
    assert types.count(EventType.RETRY_SCHEDULED) == 2
    assert types[-1] is EventType.FAILED


async def test_an_exception_keeps_its_traceback(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.fail", max_attempts=1))
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.FAILED)
    error = (await store.get(job.id)).error
    assert error is not None
    assert error["type"] == "ValueError" and error["message"] == "something broke"
    assert "raise ValueError" in error["traceback"]


async def test_permanent_error_is_not_retried(store: JobStore, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    job = await store.enqueue(
        JobSpec("test.fail", {"log": str(log), "how": "permanent"}, max_attempts=5)
    )
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.FAILED)
    assert len(executions(log)) == 1


async def test_a_job_past_its_timeout_fails_as_retryable(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.stubborn", timeout=0.3, max_attempts=2))
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.FAILED)
    done = await store.get(job.id)
    assert done.attempts == 2
    assert done.error is not None and done.error["type"] == "JobTimeout"
    assert EventType.RETRY_SCHEDULED in [e.type for e in await store.events(job.id)]


async def test_cancel_reaches_a_running_job_that_listens(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.cancellable"))
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.RUNNING)
        await until(lambda: _has_progress(store, job.id))
        await store.cancel(job.id)
        await wait_for_status(store, job.id, JobStatus.CANCELLED, timeout=5)
    types = [e.type for e in await store.events(job.id)]
    assert types[-2:] == [EventType.CANCEL_REQUESTED, EventType.CANCELLED]


async def _has_progress(store: JobStore, job_id: int) -> bool:
    progress = (await store.get(job_id)).progress
    return progress == {"done": 0, "total": 1, "phase": "waiting"}


async def test_cancel_interrupts_a_job_that_ignores_it(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.stubborn"))
    async with running_worker(store, cancel_grace=0.2):
        await wait_for_status(store, job.id, JobStatus.RUNNING)
        await store.cancel(job.id)
        await wait_for_status(store, job.id, JobStatus.CANCELLED, timeout=5)


async def test_shutdown_hands_running_jobs_back_without_counting(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.stubborn"))
    async with running_worker(store, shutdown_grace=0.2) as worker:
        await wait_for_status(store, job.id, JobStatus.RUNNING)
    assert worker.state is WorkerState.STOPPED
    back = await store.get(job.id)
    assert back.status is JobStatus.QUEUED
    assert back.attempts == 0
    assert (await store.events(job.id))[-1].type is EventType.RELEASED
    [row] = await WorkerRegistry(store.db).list()
    assert row.state is WorkerState.STOPPED and row.jobs_running == 0


async def test_a_worker_that_lost_its_lease_stops_and_writes_nothing(
    short_lease_store: JobStore, tmp_path: Path
) -> None:
    store = short_lease_store
    job = await store.enqueue(JobSpec("test.stubborn", {"log": str(tmp_path / "runs.log")}))
    async with running_worker(store, heartbeat_interval=0.2):
        await wait_for_status(store, job.id, JobStatus.RUNNING)
        # Another worker takes the job over (as if this one had been rescued).
        async with store.db.write() as conn:
            await conn.execute(
                sa.update(jobs_table)
                .where(jobs_table.c.id == job.id)
                .values(lease_owner="usurper", lease_token="f" * 32)
            )
        await until(lambda: _nothing_running(store), timeout=5)
    taken = await store.get(job.id)
    assert taken.status is JobStatus.RUNNING
    assert taken.lease_owner == "usurper" and taken.lease_token == "f" * 32


async def _nothing_running(store: JobStore) -> bool:
    rows = await WorkerRegistry(store.db).list()
    return bool(rows) and rows[0].jobs_running == 0


async def test_follow_ups_exist_only_if_the_job_succeeds(store: JobStore) -> None:
    good = await store.enqueue(JobSpec("test.follow_up"))
    bad = await store.enqueue(JobSpec("test.follow_up", {"then_fail": True}))
    async with running_worker(store):
        await wait_for_status(store, good.id, JobStatus.SUCCEEDED)
        await wait_for_status(store, bad.id, JobStatus.FAILED)
    noops = [j for j in (await store.list_jobs()).jobs if j.kind == "noop"]
    assert [j.payload for j in noops] == [{"parent": good.id}]


async def test_a_result_that_is_not_json_fails_the_job(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.bad_result", max_attempts=3))
    async with running_worker(store):
        await wait_for_status(store, job.id, JobStatus.FAILED)
    error = (await store.get(job.id)).error
    assert error is not None and "not JSON-serialisable" in error["message"]


async def test_burst_stops_when_nothing_is_ready(store: JobStore) -> None:
    ids = await store.enqueue_many([JobSpec("noop", {"i": i}) for i in range(25)])
    worker = WorkerProcess(
        store,
        WorkerOptions(queues=QueueSelector(("default",)), burst=True, poll_interval=0.05),
        hooks=events.Hooks(),
    )
    assert await asyncio.wait_for(worker.run(), timeout=30) is ExitCode.OK
    jobs = await store.get_many(ids)
    assert {job.status for job in jobs.values()} == {JobStatus.SUCCEEDED}


async def test_queues_are_served_in_order(store: JobStore) -> None:
    low = await store.enqueue_many([JobSpec("noop", queue="later") for _ in range(5)])
    high = await store.enqueue_many([JobSpec("noop", queue="first") for _ in range(5)])
    worker = WorkerProcess(
        store,
        WorkerOptions(queues=QueueSelector(("first", "later")), concurrency=1, burst=True),
        hooks=events.Hooks(),
    )
    await asyncio.wait_for(worker.run(), timeout=30)
    jobs = await store.get_many(low + high)
    last_first = max(jobs[i].started_at for i in high)  # type: ignore[type-var]
    first_later = min(jobs[i].started_at for i in low)  # type: ignore[type-var]
    assert last_first < first_later


async def test_worker_keeps_its_heartbeat_row(store: JobStore) -> None:
    async with running_worker(store, heartbeat_interval=0.1) as worker:
        registry = WorkerRegistry(store.db)
        first = (await until(registry.list))[0]
        assert first.id == worker.id and first.state is WorkerState.RUNNING
        await until(lambda: _seen_after(registry, first.last_seen_at))
    [last] = await registry.list()
    assert last.state is WorkerState.STOPPED
    assert last.rss_bytes > 10 * 2**20


async def _seen_after(registry: WorkerRegistry, when: Any) -> bool:
    return (await registry.list())[0].last_seen_at > when
