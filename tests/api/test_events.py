"""``GET /v1/jobs/{id}/events``: a job's changes as Server-Sent Events, until it finishes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from scrapeyard import app as composition
from scrapeyard import config
from scrapeyard.api.options import ApiOptions
from scrapeyard.client import Client, ServerEvent
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.api import live
from tests.api.conftest import StartServer, bearer
from tests.support.inprocess import running_worker
from tests.support.waiting import until


@pytest.fixture
async def client(api_url: str, admin_key: str) -> AsyncIterator[Client]:
    async with Client(api_url, admin_key) as opened:
        yield opened


async def _collect(stream: AsyncIterator[ServerEvent], into: list[ServerEvent]) -> None:
    async for event in stream:
        into.append(event)


async def test_a_job_is_followed_from_queued_to_finished(client: Client, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop", {"sleep": 0.2}))
    events: list[ServerEvent] = []
    follow = asyncio.create_task(_collect(client.events(job.id), events))
    await until(lambda: _arrived(events, "job"))
    async with running_worker(store):
        await asyncio.wait_for(follow, timeout=30)
    kinds = [event.event for event in events]
    assert kinds[-1] == "end"
    assert events[-1].json()["status"] == "succeeded"
    statuses = [event.json()["status"] for event in events if event.event == "job"]
    assert statuses[0] == "queued" and statuses[-1] == "succeeded"
    assert "running" in statuses
    history = [event for event in events if event.event == "history"]
    assert [event.json()["type"] for event in history] == ["enqueued", "started", "succeeded"]
    assert [event.id for event in history] == [str(event.json()["id"]) for event in history]


async def _arrived(events: list[ServerEvent], kind: str) -> bool:
    return any(event.event == kind for event in events)


async def test_progress_and_cancellation_arrive_live(client: Client, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("test.cancellable"))
    events: list[ServerEvent] = []
    follow = asyncio.create_task(_collect(client.events(job.id), events))
    async with running_worker(store):

        async def progress_seen() -> bool:
            return any(
                event.event == "job" and event.json()["progress"] is not None for event in events
            )

        await until(progress_seen)
        await client.cancel(job.id)
        await asyncio.wait_for(follow, timeout=30)
    [with_progress, *_] = [e.json() for e in events if e.event == "job" and e.json()["progress"]]
    assert with_progress["progress"] == {"done": 0, "total": 1, "phase": "waiting"}
    assert with_progress["status"] == "running"
    cancel_flag = [e.json()["cancel_requested"] for e in events if e.event == "job"]
    assert True in cancel_flag
    assert events[-1].event == "end" and events[-1].json()["status"] == "cancelled"


async def test_a_finished_job_replays_its_history_and_ends(client: Client, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    await store.cancel(job.id)
    events = [event async for event in client.events(job.id)]
    assert [event.event for event in events] == ["history", "history", "job", "end"]
    resumed = [event async for event in client.events(job.id, last_event_id=events[0].id)]
    assert [event.event for event in resumed] == ["history", "job", "end"]
    assert resumed[0].json()["type"] == "cancelled"


async def test_deleting_the_job_ends_the_stream(client: Client, store: JobStore) -> None:
    job = await store.enqueue(JobSpec("noop"))
    events: list[ServerEvent] = []
    follow = asyncio.create_task(_collect(client.events(job.id), events))
    await until(lambda: _arrived(events, "job"))
    await client.delete(job.id)
    await asyncio.wait_for(follow, timeout=30)
    assert events[-1].event == "deleted"
    assert events[-1].json() == {"id": job.id}


async def test_an_idle_stream_sends_heartbeat_comments(
    start_server: StartServer, admin_key: str, store: JobStore
) -> None:
    url = start_server(ApiOptions(stream_poll_interval=0.05, stream_heartbeat=0.2))
    job = await store.enqueue(JobSpec("noop"))
    lines: list[str] = []
    async with httpx.AsyncClient(base_url=url, headers=bearer(admin_key)) as http:
        async with http.stream("GET", f"/v1/jobs/{job.id}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            async for line in response.aiter_lines():
                lines.append(line)
                if line.startswith(":"):
                    break
    assert lines[-1] == ": keep-alive"
    assert "event: job" in lines


async def test_stopping_the_server_ends_open_streams(
    settings: config.Settings, admin_key: str, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("noop"))
    events: list[ServerEvent] = []
    with live.live_server(settings) as server:
        async with Client(server.url, admin_key) as client:
            follow = asyncio.create_task(_collect(client.events(job.id), events))
            await until(lambda: _arrived(events, "job"))
            composition.close_streams(server.app)
            await asyncio.wait_for(follow, timeout=5)
    assert [event.event for event in events][-1] == "job"
