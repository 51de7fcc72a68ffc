"""``/v1/webhooks`` on a live server: subscribe, see deliveries with attempts, redeliver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from scrapeyard import config
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhooks import WebhookStore
from tests.api import live
from tests.notify import support
from tests.notify.conftest import Configure
from tests.sites import server
from tests.support.waiting import until


@pytest.fixture
async def api(settings: config.Settings, store: JobStore) -> AsyncIterator[httpx.AsyncClient]:
    key = (await keys.KeyStore(store.db).create("admin", keys.Scope.ADMIN)).secret
    with live.live_server(settings) as running:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers, timeout=30) as client:
            yield client


async def test_subscribe_follow_the_deliveries_and_redeliver_through_the_api(
    store: JobStore, sites: server.ServerThread, configure: Configure, api: httpx.AsyncClient
) -> None:
    receiver = support.Receiver("whsec_unknown_yet", script=["fail"])
    site = sites.serve(receiver.app())
    made = await api.post(
        "/v1/webhooks",
        json={"url": site.url("/hook"), "events": ["job.succeeded"], "description": "ci"},
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_") and hook["scope"] == "global"
    receiver.secret = hook["secret"]
    listed = await api.get("/v1/webhooks")
    assert [h["id"] for h in listed.json()["webhooks"]] == [hook["id"]]
    assert hook["secret"] not in listed.text and "secret" not in listed.json()["webhooks"][0]

    async with support.running_worker(store):
        job = await store.enqueue(JobSpec("noop"))
        hooks = WebhookStore(store.db)
        await until(lambda: _status(hooks, hook["id"], "succeeded"), timeout=20)
        page = (await api.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()
        [delivery] = page["deliveries"]
        assert delivery["payload"]["data"]["job"]["id"] == job.id
        assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 200]
        assert delivery["attempt_log"][0]["response"].startswith("boom")

        again = await api.post(f"/v1/webhooks/deliveries/{delivery['id']}/redeliver")
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "pending"
        await until(lambda: _attempts(api, delivery["id"], 3), timeout=20)

    got = receiver.snapshot()
    assert len(got) == 3 and all(r.verified for r in got)
    assert {r.headers["webhook-id"] for r in got} == {delivery["message_id"]}
    shown = (await api.get(f"/v1/webhooks/deliveries/{delivery['id']}")).json()
    assert shown["status"] == "succeeded" and shown["attempts"] == 3
    assert [a["status_code"] for a in shown["attempt_log"]] == [500, 200, 200]

    assert (await api.delete(f"/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await api.get(f"/v1/webhooks/{hook['id']}")).status_code == 404
    assert (
        await api.post(f"/v1/webhooks/deliveries/{delivery['id']}/redeliver")
    ).status_code == 404


async def test_bad_subscriptions_are_refused_with_the_field(
    store: JobStore, configure: Configure, api: httpx.AsyncClient
) -> None:
    unknown_event = await api.post(
        "/v1/webhooks", json={"url": "https://example.com/h", "events": ["job.exploded"]}
    )
    assert unknown_event.status_code == 422
    assert unknown_event.json()["error"]["details"]["fields"][0]["field"] == "events.0"
    not_http = await api.post(
        "/v1/webhooks", json={"url": "ftp://example.com/h", "events": ["job.failed"]}
    )
    assert not_http.status_code == 422
    no_job = await api.post(
        "/v1/webhooks",
        json={"url": "https://example.com/h", "events": ["job.failed"], "job_id": 999},
    )
    assert no_job.status_code == 404 and no_job.json()["error"]["code"] == "job_not_found"
    job = await store.enqueue(JobSpec("noop"))
    mine = await api.post(
        "/v1/webhooks",
        json={"url": "https://example.com/h", "events": ["job.failed"], "job_id": job.id},
    )
    assert mine.status_code == 201 and mine.json()["scope_id"] == job.id
    listed = await api.get("/v1/webhooks", params={"job_id": job.id})
    assert [h["id"] for h in listed.json()["webhooks"]] == [mine.json()["id"]]
    assert (await api.get("/v1/webhooks", params={"job_id": job.id + 1})).json()["webhooks"] == []


async def _status(hooks: WebhookStore, webhook_id: int, status: str) -> bool:
    found = await hooks.deliveries(webhook_id)
    return bool(found) and all(d.status == status for d in found)


async def _attempts(api: httpx.AsyncClient, delivery_id: int, count: int) -> bool:
    shown = (await api.get(f"/v1/webhooks/deliveries/{delivery_id}")).json()
    return bool(shown["attempts"] == count and shown["status"] == "succeeded")
