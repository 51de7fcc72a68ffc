"""Webhooks to a real receiver on loopback: signed, retried through failures and a
timeout, every attempt logged, and never sent where the SSRF guard forbids."""

from __future__ import annotations

from scrapeyard.notify import signing
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhook_records import Delivery
from scrapeyard.queue.webhooks import WebhookStore
from tests.notify import support
from tests.notify.conftest import Configure
from tests.sites import server
from tests.support.waiting import until


async def _settled(hooks: WebhookStore, webhook_id: int) -> list[Delivery]:
    found = await hooks.deliveries(webhook_id)
    return found if found and all(d.status in ("succeeded", "failed") for d in found) else []


async def test_a_delivery_survives_failures_and_a_timeout_and_logs_every_attempt(
    store: JobStore, sites: server.ServerThread, configure: Configure
) -> None:
    secret = signing.new_secret()
    receiver = support.Receiver(secret, script=["fail", "fail", "hang", "ok"])
    site = sites.serve(receiver.app())
    hooks = WebhookStore(store.db)
    hook = await hooks.create(site.url("/hook"), ["job.succeeded", "job.failed"], secret)

    async with support.running_worker(store):
        job = await store.enqueue(JobSpec("noop", {"hello": "world"}))
        [delivery] = await until(lambda: _settled(hooks, hook.id), timeout=20)

    assert delivery.status == "succeeded" and delivery.attempts == 4
    assert delivery.event == "job.succeeded"
    attempts = (await hooks.attempts([delivery.id]))[delivery.id]
    assert [a.status_code for a in attempts] == [500, 500, None, 200]
    assert attempts[0].response is not None and attempts[0].response.startswith("boom")
    assert len(attempts[0].response) == 1000  # an excerpt, not the whole answer
    assert attempts[2].error is not None and attempts[2].error.startswith("Timeout")
    assert attempts[2].latency is not None and attempts[2].latency >= 0.5
    assert attempts[3].response == "thanks" and attempts[3].error is None
    assert all(a.latency is not None and a.latency > 0 for a in attempts)
    # Four requests arrived, all correctly signed, all the same message.
    got = receiver.snapshot()
    assert len(got) == 4 and all(r.verified for r in got)
    assert {r.headers["webhook-id"] for r in got} == {delivery.message_id}
    body = got[-1].message
    assert body["type"] == "job.succeeded"
    assert body["data"]["job"]["id"] == job.id
    assert body["data"]["job"]["status"] == "succeeded"
    assert body["data"]["result"] == {"hello": "world"}
    assert "payload" not in body["data"]["job"]
    # Nothing was sent for the delivery jobs themselves (no delivery about a delivery).
    assert [d.event for d in await hooks.deliveries(hook.id)] == ["job.succeeded"]
    sender = await store.get(delivery.job_id or 0)
    assert sender.kind == "webhook.deliver" and sender.status is JobStatus.SUCCEEDED


async def test_a_final_failure_is_sent_once_with_its_error_and_a_wrong_secret_fails_to_verify(
    store: JobStore, sites: server.ServerThread, configure: Configure
) -> None:
    secret = signing.new_secret()
    receiver = support.Receiver(signing.new_secret())  # verifies with another secret
    site = sites.serve(receiver.app())
    hooks = WebhookStore(store.db)
    hook = await hooks.create(site.url("/hook"), ["job.failed"], secret)

    async with support.running_worker(store):
        job = await store.enqueue(JobSpec("test.fail", {"how": "error"}, max_attempts=2))
        [delivery] = await until(lambda: _settled(hooks, hook.id), timeout=20)

    assert (await store.get(job.id)).status is JobStatus.FAILED
    [request] = receiver.snapshot()  # the first, retried attempt is not an event
    assert not request.verified
    data = request.message["data"]
    assert data["job"]["id"] == job.id and data["job"]["attempt"] == 2
    assert data["error"] == {"type": "ValueError", "message": "something broke"}


async def test_targets_the_ssrf_guard_refuses_are_never_contacted(
    store: JobStore, sites: server.ServerThread, configure: Configure
) -> None:
    secret = signing.new_secret()
    receiver = support.Receiver(secret)
    site = sites.serve(receiver.app())
    hooks = WebhookStore(store.db)
    targets = [
        site.url("/hook"),  # loopback, not allowed in this worker
        f"http://localhost:{site.port}/hook",  # a name that resolves to loopback
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    ]
    made = [await hooks.create(url, ["job.succeeded"], secret) for url in targets]

    async with support.running_worker(store, allowed_networks=()):
        await store.enqueue(JobSpec("noop"))
        settled = [await until(lambda h=h: _settled(hooks, h.id), timeout=20) for h in made]

    assert len(receiver.snapshot()) == 0 and len(site.log) == 0
    reasons = []
    for [delivery] in settled:
        assert delivery.status == "failed" and delivery.attempts == 1  # never retried
        [attempt] = (await hooks.attempts([delivery.id]))[delivery.id]
        assert attempt.status_code is None and attempt.latency is None
        assert attempt.error is not None and attempt.error.startswith("BlockedAddress")
        reasons.append(attempt.error)
        sender = await store.get(delivery.job_id or 0)
        assert sender.status is JobStatus.FAILED and sender.attempts == 1
    assert "loopback" in reasons[0] and "loopback" in reasons[1]
    assert "link-local" in reasons[2]
