"""``scrapeyard.Client`` and ``SyncClient`` against a live API."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

import scrapeyard
from scrapeyard import app as composition
from scrapeyard import config, errors
from scrapeyard.api.options import ApiOptions
from scrapeyard.client import ApiUnreachable, Client, SyncClient
from scrapeyard.errors import NotAuthenticated, NotPermitted, RateLimited
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.api import live
from tests.api.conftest import StartServer
from tests.support.inprocess import running_worker
from tests.support.waiting import until


@pytest.fixture
async def client(api_url: str, admin_key: str) -> AsyncIterator[Client]:
    async with scrapeyard.Client(api_url, admin_key, poll_interval=0.05) as opened:
        yield opened


async def test_enqueue_and_wait_for_the_result(client: Client, store: JobStore) -> None:
    job = await client.enqueue("noop", {"n": 1}, queue="default", priority=3, max_attempts=2)
    assert (job["status"], job["priority"], job["max_attempts"]) == ("queued", 3, 2)
    async with running_worker(store):
        done = await client.wait(job["id"], timeout=30)
    assert done["status"] == "succeeded"
    assert done["result"] == {"n": 1}


async def test_wait_times_out(client: Client) -> None:
    job = await client.enqueue("noop", delay=3600)
    with pytest.raises(TimeoutError):
        await client.wait(job["id"], timeout=0.3)


async def test_listing_filters_and_iterating_every_page(client: Client, store: JobStore) -> None:
    ids = await store.enqueue_many([JobSpec("noop") for _ in range(5)])
    other = await store.enqueue(JobSpec("test.record"))
    page = await client.list_jobs(kind="noop", limit=2)
    assert [job["id"] for job in page["jobs"]] == sorted(ids, reverse=True)[:2]
    assert page["next_cursor"]
    every = [job["id"] async for job in client.iter_jobs(kind="noop", limit=2)]
    assert every == sorted(ids, reverse=True)
    queued = [job["id"] async for job in client.iter_jobs(status=["queued"], limit=100)]
    assert queued == [other.id, *sorted(ids, reverse=True)]


async def test_cancel_retry_delete(client: Client, store: JobStore) -> None:
    job = await client.enqueue("noop", delay=3600)
    assert (await client.cancel(job["id"]))["status"] == "cancelled"
    assert (await client.retry(job["id"]))["status"] == "queued"
    await client.cancel(job["id"])
    await client.delete(job["id"])
    with pytest.raises(errors.JobNotFound) as raised:
        await client.get_job(job["id"])
    assert raised.value.job_id == job["id"]


async def test_queues_and_workers(client: Client, store: JobStore) -> None:
    await client.enqueue("noop", queue="mail")
    assert (await client.pause("mail"))["paused"] is True
    [mail] = await client.queues()
    assert (mail["name"], mail["paused"], mail["counts"]["queued"]) == ("mail", True, 1)
    assert (await client.resume("mail"))["paused"] is False
    async with running_worker(store, queues=("mail",)) as worker:
        workers = await until(client.workers)
    assert [w["id"] for w in workers] == [worker.id]


async def test_api_errors_become_scrapeyard_errors(client: Client, store: JobStore) -> None:
    with pytest.raises(errors.InvalidInput) as invalid:
        await client.enqueue("noop", priority=5000)
    assert invalid.value.field == "body.priority"
    with pytest.raises(errors.InvalidInput) as unknown:
        await client.enqueue("no-such-kind")
    assert unknown.value.field == "kind"
    job = await store.enqueue(JobSpec("noop"))
    await store.cancel(job.id)
    with pytest.raises(errors.InvalidTransition) as conflict:
        await client.cancel(job.id)
    assert (conflict.value.status, conflict.value.action) == ("cancelled", "cancel")


async def test_auth_and_rate_limit_errors_carry_status_and_details(
    start_server: StartServer, key_store: keys.KeyStore
) -> None:
    url = start_server(ApiOptions(rate_limit=0.1, rate_burst=1))
    reader = (await key_store.create("reader", "read")).secret
    async with Client(url, "sy_" + "x" * 43) as stranger:
        with pytest.raises(NotAuthenticated, match="unknown API key"):
            await stranger.queues()
    async with Client(url, reader) as client:
        with pytest.raises(NotPermitted) as narrow:
            await client.pause("default")
        assert (narrow.value.needed, narrow.value.held) == ("admin", "read")
        with pytest.raises(RateLimited) as limited:
            await client.queues()
    assert limited.value.retry_after >= 1


async def test_an_unreachable_api_is_one_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Client(f"http://127.0.0.1:{port}", timeout=2) as client:
        with pytest.raises(ApiUnreachable):
            await client.queues()


def test_the_sync_client_offers_the_same_methods(api_url: str, admin_key: str) -> None:
    with SyncClient(api_url, admin_key) as client:
        job = client.enqueue("noop", {"n": 2}, delay=3600)
        assert client.get_job(job["id"])["payload"] == {"n": 2}
        assert [found["id"] for found in client.iter_jobs(limit=1)] == [job["id"]]
        assert client.cancel(job["id"])["status"] == "cancelled"
        events = [event.event for event in client.events(job["id"])]
        assert events[-1] == "end"
        with pytest.raises(errors.JobNotFound):
            client.get_job(job["id"] + 1)


def test_the_client_does_not_import_the_server() -> None:
    code = (
        "import sys, scrapeyard.client; "
        "print(sorted(m for m in sys.modules if m.startswith(('scrapeyard.api', 'scrapeyard.app', "
        "'fastapi', 'uvicorn'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_wait_looks_at_the_job_when_the_stream_ends_early(
    settings: config.Settings, admin_key: str, store: JobStore
) -> None:
    job = await store.enqueue(JobSpec("noop"))
    with live.live_server(settings) as server:
        async with Client(server.url, admin_key, poll_interval=0.05) as client:
            # Every stream now ends at once, without an "end" event.
            composition.close_streams(server.app)
            waiting = asyncio.create_task(client.wait(job.id, timeout=30))
            async with running_worker(store):
                done = await waiting
    assert done["status"] == "succeeded"
