"""``/v1/queues`` (counts, pause, resume) and ``/v1/workers`` (heartbeat rows)."""

from __future__ import annotations

import httpx

from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.workers import Heartbeat, WorkerRegistry, WorkerState


async def test_queues_show_every_status_and_the_paused_flag(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    await store.enqueue_many([JobSpec("noop", queue="a") for _ in range(3)])
    cancelled = await store.enqueue(JobSpec("noop", queue="b"))
    await store.cancel(cancelled.id)
    await store.set_paused("idle", True)
    queues = {queue["name"]: queue for queue in (await api.get("/v1/queues")).json()}
    assert set(queues) == {"a", "b", "idle"}
    assert queues["a"]["counts"] == {str(s): 3 if s is JobStatus.QUEUED else 0 for s in JobStatus}
    assert (queues["a"]["total"], queues["a"]["paused"]) == (3, False)
    assert queues["b"]["counts"]["cancelled"] == 1
    assert (queues["idle"]["total"], queues["idle"]["paused"]) == (0, True)


async def test_a_paused_queue_is_not_claimed_from_until_resumed(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("noop", queue="crawl"))
    paused = await api.post("/v1/queues/crawl/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json() == {
        "name": "crawl",
        "paused": True,
        "counts": {str(s): 1 if s is JobStatus.QUEUED else 0 for s in JobStatus},
        "total": 1,
    }
    assert await store.claim("probe", ["crawl"]) == []
    resumed = await api.post("/v1/queues/crawl/resume")
    assert resumed.json()["paused"] is False
    assert [claimed.id for claimed in await store.claim("probe", ["crawl"])] == [job.id]


async def test_queue_names_are_validated(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/v1/queues/{'q' * 101}/pause")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "name"


async def test_workers_come_from_heartbeat_rows(api: httpx.AsyncClient, store: JobStore) -> None:
    registry = WorkerRegistry(store.db)
    await registry.register(
        "host-a:41:abc",
        supervisor="supervisor-1",
        host="host-a",
        pid=41,
        queues=["default", "crawl"],
        concurrency=8,
        version="0.1.0",
    )
    await registry.beat(
        "host-a:41:abc",
        Heartbeat(
            state=WorkerState.RUNNING,
            jobs_running=2,
            jobs_succeeded=10,
            jobs_failed=1,
            rss_bytes=50_000_000,
        ),
    )
    [worker] = (await api.get("/v1/workers")).json()
    assert worker["id"] == "host-a:41:abc"
    assert (worker["host"], worker["pid"], worker["queues"]) == ("host-a", 41, ["default", "crawl"])
    assert (worker["state"], worker["jobs_running"], worker["rss_bytes"]) == (
        "running",
        2,
        50_000_000,
    )
    assert worker["stale"] is False
