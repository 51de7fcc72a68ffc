"""API keys on every endpoint but health: missing, unknown, revoked, expired, narrow, too fast."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from scrapeyard.api.options import ApiOptions
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.api.conftest import StartServer, bearer
from tests.support.waiting import until

READS = [("GET", "/v1/jobs"), ("GET", "/v1/jobs/1"), ("GET", "/v1/queues"), ("GET", "/v1/workers")]
WRITES = [
    ("POST", "/v1/jobs/1/cancel"),
    ("POST", "/v1/jobs/1/retry"),
    ("DELETE", "/v1/jobs/1"),
]
ADMINS = [("POST", "/v1/queues/default/pause"), ("POST", "/v1/queues/default/resume")]


def _code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def _call(
    url: str, method: str, path: str, secret: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = bearer(secret) if secret else {}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        return await client.request(method, path, **kwargs)


async def test_every_endpoint_but_health_needs_a_key(api_url: str, store: JobStore) -> None:
    await store.enqueue(JobSpec("noop"))
    enqueue = ("POST", "/v1/jobs")
    for method, path in [*READS, *WRITES, *ADMINS, enqueue, ("GET", "/v1/jobs/1/events")]:
        response = await _call(api_url, method, path, json={"kind": "noop"})
        assert response.status_code == 401, (method, path)
        assert _code(response) == "not_authenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    for path in ["/healthz", "/readyz"]:
        assert (await _call(api_url, "GET", path)).status_code == 200
    assert (await store.get(1)).status == "queued", "nothing changed without a key"


@pytest.mark.parametrize("secret", ["sy_" + "x" * 43, "not-a-key", "Bearer", ""])
async def test_unknown_keys_are_refused(api_url: str, secret: str) -> None:
    response = await _call(api_url, "GET", "/v1/jobs", headers={"Authorization": secret})
    assert response.status_code == 401
    response = await _call(api_url, "GET", "/v1/jobs", secret)
    assert response.status_code == 401


async def test_scopes_nest_read_write_admin(
    api_url: str, store: JobStore, key_store: keys.KeyStore
) -> None:
    reader = (await key_store.create("reader", "read")).secret
    writer = (await key_store.create("writer", "write")).secret
    admin = (await key_store.create("boss", "admin")).secret
    for method, path in READS:
        assert (await _call(api_url, method, path, reader)).status_code in (200, 404)
    job = await store.enqueue(JobSpec("noop"))
    for method, path in [("POST", f"/v1/jobs/{job.id}/cancel"), *ADMINS]:
        refused = await _call(api_url, method, path, reader)
        assert refused.status_code == 403, path
        assert _code(refused) == "not_permitted"
        assert refused.json()["error"]["details"]["key_scope"] == "read"
    enqueued = await _call(api_url, "POST", "/v1/jobs", reader, json={"kind": "noop"})
    assert enqueued.status_code == 403
    assert (await store.get(job.id)).status == "queued", "a read key changed nothing"

    assert (await _call(api_url, "POST", f"/v1/jobs/{job.id}/cancel", writer)).status_code == 200
    for method, path in ADMINS:
        assert (await _call(api_url, method, path, writer)).status_code == 403
        assert (await _call(api_url, method, path, admin)).status_code == 200


async def test_a_revoked_key_stops_working_at_once(api_url: str, key_store: keys.KeyStore) -> None:
    made = await key_store.create("ci", "write")
    assert (await _call(api_url, "GET", "/v1/jobs", made.secret)).status_code == 200
    await key_store.revoke(made.key.id)
    response = await _call(api_url, "GET", "/v1/jobs", made.secret)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


async def test_an_expired_key_is_refused(api_url: str, key_store: keys.KeyStore) -> None:
    made = await key_store.create("short", "read", expires_in=0.5)
    assert (await _call(api_url, "GET", "/v1/jobs", made.secret)).status_code == 200

    async def refused() -> httpx.Response | None:
        response = await _call(api_url, "GET", "/v1/jobs", made.secret)
        return response if response.status_code == 401 else None

    response = await until(refused, timeout=10, interval=0.1)
    assert "expired" in response.json()["error"]["message"]


async def test_using_a_key_records_when(api_url: str, key_store: keys.KeyStore) -> None:
    made = await key_store.create("ci", "read")
    assert made.key.last_used_at is None
    response = await _call(api_url, "GET", "/v1/keys/current", made.secret)
    assert response.json() == {
        "id": made.key.id,
        "name": "ci",
        "prefix": made.secret[:11],
        "scope": "read",
        "expires_at": None,
    }

    async def recorded() -> keys.ApiKey | None:  # written in the background
        [listed] = await key_store.list()
        return listed if listed.last_used_at is not None else None

    await until(recorded, timeout=10, interval=0.05)


async def test_a_key_over_its_rate_gets_429_with_retry_after(
    start_server: StartServer, admin_key: str, key_store: keys.KeyStore
) -> None:
    url = start_server(ApiOptions(rate_limit=0.5, rate_burst=3))
    other = (await key_store.create("other", "read")).secret
    async with httpx.AsyncClient(base_url=url, headers=bearer(admin_key)) as client:
        statuses = [(await client.get("/v1/queues")).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await client.get("/v1/queues")
    assert limited.status_code == 429
    assert _code(limited) == "rate_limited"
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["details"] == {"retry_after": 2}
    # The limit is per key: another key is not held back, and health needs no key.
    assert (await _call(url, "GET", "/v1/queues", other)).status_code == 200
    for _ in range(5):
        assert (await _call(url, "GET", "/healthz")).status_code == 200


async def test_many_requests_at_once_record_the_use_in_the_background_once(
    key_store: keys.KeyStore,
) -> None:
    made = await key_store.create("burst", "read")
    server_side = keys.KeyStore(key_store.db)  # one API process's store

    found = await asyncio.gather(*(server_side.authenticate(made.secret) for _ in range(50)))

    assert all(key is not None and key.id == made.key.id for key in found)
    await server_side.settle()
    [listed] = await key_store.list()
    assert listed.last_used_at is not None
    first = listed.last_used_at
    await server_side.authenticate(made.secret)  # within the interval: no second write
    await server_side.settle()
    assert (await key_store.list())[0].last_used_at == first
