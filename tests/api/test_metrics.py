"""``GET /metrics``: Prometheus text read from the database, the same from every process."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from scrapeyard.api.options import ApiOptions
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.workers import Heartbeat, WorkerRegistry, WorkerState
from tests.api.conftest import StartServer, bearer


async def _scrape(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as client:
        return await client.get("/metrics", headers=headers)


def _samples(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    [value] = [s.value for s in samples if s.name == name and s.labels == labels]
    return value


async def _finish(store: JobStore, kind: str, seconds: float, *, fail: bool = False) -> None:
    job = await store.enqueue(JobSpec(kind))
    [claimed] = await store.claim("w", ["default"])
    assert claimed.id == job.id
    if fail:
        await store.fail(claimed, {"type": "E", "message": "x"}, permanent=True)
    else:
        await store.complete(claimed, None)
    # Give the attempt an exact run time.
    async with store.db.write() as conn:
        finished = (await store.get(job.id)).finished_at
        assert finished is not None
        await conn.execute(
            sa.update(jobs_table)
            .where(jobs_table.c.id == job.id)
            .values(started_at=finished - timedelta(seconds=seconds))
        )


async def test_queue_depth_matches_the_stores_counts(
    api_url: str, store: JobStore, admin_key: str
) -> None:
    await store.enqueue_many([JobSpec("noop", queue="a") for _ in range(4)])
    await store.enqueue(JobSpec("noop", queue="b", delay=3600))
    cancelled = await store.enqueue(JobSpec("noop", queue="b"))
    await store.cancel(cancelled.id)
    await store.set_paused("b", True)
    response = await _scrape(api_url, bearer(admin_key))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    depth = samples["scrapeyard_queue_jobs"]
    for queue, by_status in (await store.counts()).items():
        for status in ("scheduled", "queued", "running", "succeeded", "failed", "cancelled"):
            expected = by_status.get(status, 0)
            assert _value(depth, "scrapeyard_queue_jobs", queue=queue, status=status) == expected
    assert _value(depth, "scrapeyard_queue_jobs", queue="a", status="queued") == 4
    paused = samples["scrapeyard_queue_paused"]
    assert _value(paused, "scrapeyard_queue_paused", queue="b") == 1
    assert _value(paused, "scrapeyard_queue_paused", queue="a") == 0


async def test_finished_jobs_and_durations_are_bucketed_by_the_database(
    api_url: str, store: JobStore
) -> None:
    await _finish(store, "noop", 0.3)
    await _finish(store, "noop", 7)
    await _finish(store, "noop", 4000)
    await _finish(store, "test.fail", 0.01, fail=True)
    text = (await _scrape(api_url)).text
    samples = _samples(text)
    finished = samples["scrapeyard_jobs_finished"]
    assert _value(finished, "scrapeyard_jobs_finished", kind="noop", outcome="succeeded") == 3
    assert _value(finished, "scrapeyard_jobs_finished", kind="test.fail", outcome="failed") == 1
    durations = samples["scrapeyard_job_duration_seconds"]
    name = "scrapeyard_job_duration_seconds_bucket"
    ok = {"kind": "noop", "outcome": "succeeded"}
    assert _value(durations, name, le="0.25", **ok) == 0
    assert _value(durations, name, le="0.5", **ok) == 1
    assert _value(durations, name, le="10.0", **ok) == 2
    assert _value(durations, name, le="3600.0", **ok) == 2
    assert _value(durations, name, le="+Inf", **ok) == 3
    assert _value(durations, "scrapeyard_job_duration_seconds_count", **ok) == 3
    total = _value(durations, "scrapeyard_job_duration_seconds_sum", **ok)
    assert abs(total - 4007.3) < 0.01
    failed = {"kind": "test.fail", "outcome": "failed"}
    assert _value(durations, name, le="0.05", **failed) == 1


async def test_workers_report_processes_memory_and_heartbeat_age(
    api_url: str, store: JobStore
) -> None:
    registry = WorkerRegistry(store.db)
    for worker_id, pid, state in [("h:1:a", 1, "running"), ("h:2:b", 2, "stopped")]:
        await registry.register(
            worker_id,
            supervisor=None,
            host="h",
            pid=pid,
            queues=["default"],
            concurrency=4,
            version="0.1.0",
        )
        await registry.beat(worker_id, Heartbeat(WorkerState(state), 1, 0, 0, 123_000_000))
    samples = _samples((await _scrape(api_url)).text)
    processes = samples["scrapeyard_worker_processes"]
    assert [(s.labels, s.value) for s in processes] == [({"host": "h", "state": "running"}, 1)]
    rss = samples["scrapeyard_worker_rss_bytes"]
    assert _value(rss, "scrapeyard_worker_rss_bytes", worker="h:1:a", host="h", pid="1") == 123e6
    age = samples["scrapeyard_worker_heartbeat_age_seconds"]
    [(labels, seconds)] = [(s.labels, s.value) for s in age]
    assert labels["worker"] == "h:1:a"
    assert 0 <= seconds < 60


async def test_metrics_need_a_read_key_unless_asked_from_loopback(
    start_server: StartServer, key_store: keys.KeyStore
) -> None:
    url = start_server(ApiOptions(metrics_from_loopback=False))
    reader = (await key_store.create("prometheus", "read")).secret
    async with httpx.AsyncClient(base_url=url) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"
        assert (await client.get("/metrics", headers=bearer(reader))).status_code == 200
        wrong = await client.get("/metrics", headers=bearer("sy_" + "0" * 43))
        assert wrong.status_code == 401
