"""``/v1/jobs`` through a real HTTP server: enqueue, list, page, inspect, cancel, retry, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.support.inprocess import running_worker
from tests.support.waiting import until


async def _status(api: httpx.AsyncClient, job_id: int, wanted: str) -> dict[str, Any] | None:
    job: dict[str, Any] = (await api.get(f"/v1/jobs/{job_id}")).json()
    return job if job["status"] == wanted else None


async def test_enqueue_returns_the_accepted_job_with_its_location(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    response = await api.post(
        "/v1/jobs",
        json={
            "kind": "noop",
            "payload": {"hello": "world"},
            "queue": "mail",
            "priority": 7,
            "delay": 3600,
            "max_attempts": 5,
            "timeout": 12.5,
        },
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert (job["kind"], job["queue"], job["priority"], job["status"]) == (
        "noop",
        "mail",
        7,
        "scheduled",
    )
    assert (job["max_attempts"], job["timeout"], job["payload"]) == (5, 12.5, {"hello": "world"})
    assert [event["type"] for event in job["events"]] == ["enqueued"]
    stored = await store.get(job["id"])
    assert stored.run_at > stored.created_at + timedelta(minutes=59)


async def test_a_unique_key_held_by_an_unfinished_job_returns_that_job(
    api: httpx.AsyncClient,
) -> None:
    body = {"kind": "noop", "unique_key": "report-42"}
    first = (await api.post("/v1/jobs", json=body)).json()
    second = (await api.post("/v1/jobs", json=body)).json()
    assert first["id"] == second["id"]
    assert (await api.get("/v1/jobs")).json()["jobs"] == [
        {
            key: value
            for key, value in first.items()
            if key not in ("result", "events", "stats", "depends_on", "chain")
        }
    ]


async def test_listing_pages_through_every_job_newest_first(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    ids = await store.enqueue_many([JobSpec("noop", {"n": n}) for n in range(7)])
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/jobs", params=params)).json()
        seen += [job["id"] for job in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    assert pages == 3


async def test_listing_filters_by_status_kind_queue_and_creation_time(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    noop = await store.enqueue(JobSpec("noop", queue="a"))
    other = await store.enqueue(JobSpec("test.record", queue="b"))
    cancelled = await store.enqueue(JobSpec("noop", queue="a"))
    await store.cancel(cancelled.id)

    async def ids(**params: Any) -> list[int]:
        response = await api.get("/v1/jobs", params=params)
        assert response.status_code == 200, response.text
        return [job["id"] for job in response.json()["jobs"]]

    assert await ids(kind="noop") == [cancelled.id, noop.id]
    assert await ids(queue="b") == [other.id]
    assert await ids(status="cancelled") == [cancelled.id]
    assert await ids(status=["cancelled", "queued"], kind="noop") == [cancelled.id, noop.id]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    earlier = (noop.created_at - timedelta(seconds=1)).isoformat()
    assert await ids(created_after=later) == []
    assert await ids(created_after=earlier, created_before=later) == [
        cancelled.id,
        other.id,
        noop.id,
    ]


async def test_a_job_shows_its_result_attempts_timestamps_and_history(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("noop", {"answer": 42}))
    async with running_worker(store):
        done = await until(lambda: _status(api, job.id, "succeeded"))
    assert done["result"] == {"answer": 42}
    assert done["attempts"] == 1
    assert done["started_at"] is not None and done["finished_at"] is not None
    assert [event["type"] for event in done["events"]] == ["enqueued", "started", "succeeded"]


async def test_cancelling_a_running_job_stops_it(api: httpx.AsyncClient, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.cancellable"))
    async with running_worker(store):
        await until(lambda: _status(api, job.id, "running"))
        response = await api.post(f"/v1/jobs/{job.id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["cancel_requested"] is True
        cancelled = await until(lambda: _status(api, job.id, "cancelled"))
    assert "cancel_requested" in [event["type"] for event in cancelled["events"]]


async def test_retrying_a_failed_job_runs_it_again(api: httpx.AsyncClient, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.fail", {"how": "permanent"}))
    async with running_worker(store):
        await until(lambda: _status(api, job.id, "failed"))
        response = await api.post(f"/v1/jobs/{job.id}/retry")
        assert response.status_code == 200, response.text
        # The worker may have taken it again before the response was read.
        assert response.json()["status"] in ("queued", "running")
        failed = await until(lambda: _status(api, job.id, "failed"))
    types = [event["type"] for event in failed["events"]]
    assert types.count("started") == 2 and "retried" in types
    # Attempts were reset by the retry: the second run is its first attempt again.
    assert failed["attempts"] == 1


async def test_deleting_a_job_removes_it(api: httpx.AsyncClient, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    response = await api.delete(f"/v1/jobs/{job.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.get(f"/v1/jobs/{job.id}")).status_code == 404


async def test_impossible_transitions_are_conflicts(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("noop"))
    await store.cancel(job.id)
    again = await api.post(f"/v1/jobs/{job.id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["details"] == {
        "job_id": job.id,
        "status": "cancelled",
        "action": "cancel",
    }
    running = (await store.enqueue(JobSpec("noop"))).id
    await store.claim("someone", ["default"])
    assert (await api.delete(f"/v1/jobs/{running}")).status_code == 409
    queued = (await store.enqueue(JobSpec("noop"))).id
    assert (await api.post(f"/v1/jobs/{queued}/retry")).status_code == 409


async def test_a_chain_is_enqueued_in_one_request_and_shown_as_one_unit(
    api: httpx.AsyncClient,
) -> None:
    steps = [{"kind": "noop", "payload": {"step": n}} for n in range(3)]
    answer = await api.post("/v1/jobs/chain", json={"jobs": steps})
    assert answer.status_code == 202, answer.text
    chained = answer.json()
    ids = [job["id"] for job in chained]
    assert [job["status"] for job in chained] == ["queued", "waiting", "waiting"]
    assert {job["chain_id"] for job in chained} == {ids[0]}
    last = (await api.get(f"/v1/jobs/{ids[2]}")).json()
    assert last["depends_on"] == [ids[1]]
    assert [step["id"] for step in last["chain"]] == ids

    bad = await api.post("/v1/jobs/chain", json={"jobs": [steps[0], {"kind": "nope"}]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["fields"][0]["field"] == "jobs[1].kind"
    dangling = await api.post("/v1/jobs", json={"kind": "noop", "depends_on": [10**9]})
    assert dangling.status_code == 422
    assert dangling.json()["error"]["details"]["fields"][0]["field"] == "depends_on[0]"


async def test_a_crawls_open_urls_come_from_its_progress_while_it_runs_and_are_counted_after(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("crawl", {"url": "http://127.0.0.1:9/"}))
    crawls = CrawlStore(store.db)
    await crawls.ensure(job.id, "crawl", None)
    await crawls.admit(job.id, [_url(n) for n in range(3)])
    [running] = await store.claim("api-test", ["default"])
    # The lead reports its backlog every second; polling the job must not count it again.
    await store.set_progress(running, {"done": 0, "total": 3, "queued": 7})

    shown = (await api.get(f"/v1/jobs/{job.id}")).json()
    assert shown["stats"]["open"] == 7

    await store.release(running)
    shown = (await api.get(f"/v1/jobs/{job.id}")).json()
    assert shown["status"] == "queued" and shown["stats"]["open"] == 3


def _url(n: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:9/p/{n}"
    return {
        "url": url,
        "url_hash": f"{n:032x}",
        "host": "127.0.0.1:9",
        "depth": 1,
        "parent_id": None,
        "source": "link",
    }
