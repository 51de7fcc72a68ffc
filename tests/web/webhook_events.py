"""Webhook events for the dashboard tests: made here, sent by the server's own worker.

``emit`` queues an event as a job's hook would (``notify.events.emit``), from the test's
process; the ``webhook.deliver`` jobs it enqueues run in the worker that ``scrapeyard
serve`` started, whose SSRF guard lets it reach receivers on loopback.
"""

from __future__ import annotations

from typing import Any

from scrapeyard import config, connect
from scrapeyard.notify import events
from tests.web.conftest import Dashboard, run


async def _emit(
    database_url: str, event: str, data: dict[str, Any], job_id: int, times: int
) -> list[int]:
    settings = config.WebhookSettings()
    async with connect.open_store(database_url=database_url, pool_size=1) as store:
        events.cache_for(store.db, ttl=0)  # this process reads the subscriptions afresh
        made: list[int] = []
        for _ in range(times):
            scope = events.Scope(job_id=job_id)
            made += await events.emit(store, event, data, scope, settings=settings)
        return made


def emit(
    dashboard: Dashboard, event: str, job_id: int, *, times: int = 1, **data: Any
) -> list[int]:
    """Queue ``event`` about job ``job_id`` (``times`` times) for its subscribers; the
    deliveries' ids, oldest first."""
    body = {"job": {"id": job_id}, **data}
    return run(_emit(dashboard.database_url, event, body, job_id, times))


def delivery(dashboard: Dashboard, delivery_id: int) -> dict[str, Any]:
    """A delivery as the API shows it, with its attempts."""
    with dashboard.api() as api:
        response = api.get(f"/v1/webhooks/deliveries/{delivery_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def subscribe(dashboard: Dashboard, url: str, events: list[str], **scope: int) -> dict[str, Any]:
    """A subscription made through the API (which the dashboard must show alike)."""
    with dashboard.api() as api:
        response = api.post("/v1/webhooks", json={"url": url, "events": events, **scope})
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made
