"""``job.page``: a crawl's pages reach its webhook in batches, with its other events."""

from __future__ import annotations

from scrapeyard.notify import signing
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhooks import WebhookStore
from tests.notify import support
from tests.notify.conftest import Configure
from tests.sites import server, tree
from tests.support.waiting import until

PAGES = 30


async def test_a_crawl_with_a_webhook_sends_its_pages_in_signed_batches(
    store: JobStore, sites: server.ServerThread, configure: Configure
) -> None:
    secret = signing.new_secret()
    configure(webhooks={"secret": secret, "page_batch_size": 8})
    site = sites.serve(tree.tree_site(PAGES))
    receiver = support.Receiver(secret)
    hook_site = sites.serve(receiver.app())
    payload = {
        "url": site.url("/"),
        "max_pages": PAGES,
        "rate_limit": {"requests_per_second": 0},
        "webhook": hook_site.url("/hook"),
    }

    async with support.running_worker(store):
        job = await store.enqueue(JobSpec("crawl", payload))
        await until(lambda: _all_delivered(store, job.id), timeout=30)

    assert (await store.get(job.id)).status is JobStatus.SUCCEEDED
    got = receiver.snapshot()
    assert all(r.verified for r in got)
    types = [r.message["type"] for r in got]
    assert types.count("job.started") == types.count("job.succeeded") == 1
    batches = [r.message["data"] for r in receiver.of_type("job.page")]
    # Batched: a handful of requests for thirty pages, none over the batch size.
    assert 4 <= len(batches) < PAGES
    assert all(b["job_id"] == job.id and 1 <= len(b["pages"]) <= 8 for b in batches)
    assert sorted(b["batch"] for b in batches) == list(range(1, len(batches) + 1))
    urls = [page["url"] for b in batches for page in b["pages"]]
    assert len(urls) == len(set(urls)) == PAGES
    assert {u.removeprefix(site.origin) for u in urls} == tree.paths(PAGES)
    first = batches[0]["pages"][0]
    assert first["ok"] is True and first["status"] == 200
    assert first["data"]["metadata"]["title"].startswith("Page ")
    # The subscription the option made belongs to the job, and is listed as such.
    [own] = await WebhookStore(store.db).list_webhooks(scope="job", scope_id=job.id)
    assert own.url == hook_site.url("/hook") and "job.page" in own.events


async def _all_delivered(store: JobStore, job_id: int) -> bool:
    """The job's webhook got job.succeeded, and every one of its deliveries went out."""
    hooks = WebhookStore(store.db)
    own = await hooks.list_webhooks(scope="job", scope_id=job_id)
    if not own:
        return False
    found = await hooks.deliveries(own[0].id, limit=500)
    events = {d.event for d in found}
    return "job.succeeded" in events and all(d.status == "succeeded" for d in found)
