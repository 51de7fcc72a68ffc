"""Enqueueing: defaults, validation, bulk, unique keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import EventType, JobSpec, JobStatus
from scrapeyard.queue.retry import RetryPolicy
from scrapeyard.queue.store import JobStore


async def test_enqueue_stores_the_job_with_defaults(store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop", {"answer": 42}))

    stored = await store.get(job.id)
    assert stored == job
    assert stored.status is JobStatus.QUEUED
    assert stored.payload == {"answer": 42}
    assert stored.queue == "default"
    assert stored.priority == 0
    assert stored.attempts == 0
    assert stored.max_attempts == 3
    assert stored.run_at <= datetime.now(UTC) + timedelta(seconds=1)
    assert [event.type for event in await store.events(job.id)] == [EventType.ENQUEUED]


async def test_enqueue_keeps_every_option(store: JobStore) -> None:
    policy = RetryPolicy(backoff="fixed", base_delay=2, jitter=0)
    job = await store.enqueue(
        JobSpec(
            "noop",
            {"x": [1, "two", None]},
            queue="crawl",
            priority=7,
            delay=60,
            max_attempts=5,
            retry=policy,
            timeout=12.5,
            unique_key="k1",
        )
    )
    assert job.status is JobStatus.SCHEDULED
    assert job.queue == "crawl"
    assert job.priority == 7
    assert job.max_attempts == 5
    assert job.retry == policy
    assert job.timeout == 12.5
    assert job.unique_key == "k1"
    assert timedelta(seconds=59) < job.run_at - job.created_at < timedelta(seconds=61)


async def test_explicit_run_at_is_kept(store: JobStore) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = await store.enqueue(JobSpec("noop", run_at=when))
    assert job.status is JobStatus.SCHEDULED
    assert job.run_at == when


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (lambda: JobSpec("nope"), "kind"),
        (lambda: JobSpec("noop", ["not", "an", "object"]), "payload"),  # type: ignore[arg-type]
        (lambda: JobSpec("noop", {"tags": {1, 2}}), "payload"),
        (lambda: JobSpec("noop", delay=-1), "delay"),
        (lambda: JobSpec("noop", priority=1001), "priority"),
        (lambda: JobSpec("noop", priority=-1001), "priority"),
        (lambda: JobSpec("noop", priority=1.5), "priority"),  # type: ignore[arg-type]
        (lambda: JobSpec("noop", max_attempts=0), "max_attempts"),
        (lambda: JobSpec("noop", timeout=0), "timeout"),
        (lambda: JobSpec("noop", queue=""), "queue"),
        (lambda: JobSpec("noop", unique_key="x" * 300), "unique_key"),
        (lambda: JobSpec("noop", run_at=datetime(2030, 1, 1)), "run_at"),
        (lambda: JobSpec("noop", delay=1, run_at=datetime.now(UTC)), "delay"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    store: JobStore, spec: object, field: str
) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await store.enqueue(spec())  # type: ignore[operator]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert sum((await store.status_counts()).values()) == 0


async def test_unknown_kind_lists_the_registered_ones(store: JobStore) -> None:
    with pytest.raises(errors.UnknownKind, match="registered: .*noop"):
        await store.enqueue(JobSpec("does-not-exist"))


async def test_enqueue_many_returns_ids_in_order(store: JobStore) -> None:
    specs = [JobSpec("noop", {"i": i}, priority=i % 3) for i in range(250)]
    ids = await store.enqueue_many(specs)

    assert len(ids) == len(set(ids)) == 250
    jobs = await store.get_many(ids)
    assert [jobs[job_id].payload["i"] for job_id in ids] == list(range(250))
    assert (await store.status_counts())["queued"] == 250
    assert [e.type for e in await store.events(ids[-1])] == [EventType.ENQUEUED]


async def test_one_bad_spec_refuses_the_whole_batch(store: JobStore) -> None:
    accepted = await store.enqueue(JobSpec("noop"))
    with pytest.raises(errors.UnknownKind):
        await store.enqueue_many([JobSpec("noop"), JobSpec("nope"), JobSpec("noop")])
    assert (await store.status_counts())["queued"] == 1
    assert (await store.get(accepted.id)).status is JobStatus.QUEUED


async def test_unique_key_returns_the_unfinished_job(store: JobStore) -> None:
    first = await store.enqueue(JobSpec("noop", {"n": 1}, unique_key="page:1"))
    second = await store.enqueue(JobSpec("noop", {"n": 2}, unique_key="page:1"))
    other = await store.enqueue(JobSpec("noop", unique_key="page:2"))

    assert second.id == first.id
    assert second.payload == {"n": 1}
    assert other.id != first.id
    assert [e.type for e in await store.events(first.id)] == [EventType.ENQUEUED]


async def test_unique_key_holds_while_running_and_frees_when_finished(store: JobStore) -> None:
    first = await store.enqueue(JobSpec("noop", unique_key="k"))
    [claimed] = await store.claim("w", ["default"])
    assert (await store.enqueue(JobSpec("noop", unique_key="k"))).id == first.id

    await store.complete(claimed)
    again = await store.enqueue(JobSpec("noop", unique_key="k"))
    assert again.id != first.id
    assert again.status is JobStatus.QUEUED


async def test_enqueue_many_deduplicates_unique_keys(store: JobStore) -> None:
    existing = await store.enqueue(JobSpec("noop", unique_key="a"))
    ids = await store.enqueue_many(
        [
            JobSpec("noop", unique_key="a"),
            JobSpec("noop", unique_key="b"),
            JobSpec("noop"),
            JobSpec("noop", unique_key="b"),
        ]
    )
    assert ids[0] == existing.id
    assert ids[1] == ids[3] != existing.id
    assert (await store.status_counts())["queued"] == 3


async def test_a_huge_payload_is_refused(store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await store.enqueue(JobSpec("noop", {"blob": "x" * (9 * 1024 * 1024)}))
    assert caught.value.field == "payload" and "limit" in str(caught.value)


async def test_nul_characters_are_refused_on_every_backend(store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await store.enqueue(JobSpec("noop", {"text": "a\x00b"}))
    assert caught.value.field == "payload"
    with pytest.raises(errors.InvalidInput) as caught:
        await store.enqueue(JobSpec("noop", queue="q\x00"))
    assert caught.value.field == "queue"
    job = await store.enqueue(JobSpec("noop", {"text": "a literal \\u0000 is fine"}))
    assert job.payload == {"text": "a literal \\u0000 is fine"}
