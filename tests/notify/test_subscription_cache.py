"""The per-process subscription cache: one read for many jobs asking at once, and a
change made here is seen at once."""

from __future__ import annotations

import asyncio

from scrapeyard.notify import events
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhook_records import Subscriptions
from scrapeyard.queue.webhooks import WebhookStore


class CountingStore(WebhookStore):
    """The real store, counting how often the subscriptions are read."""

    reads = 0

    async def subscriptions(self) -> Subscriptions:
        self.reads += 1
        return await super().subscriptions()


async def test_many_jobs_asking_at_once_read_the_subscriptions_once(store: JobStore) -> None:
    webhooks = CountingStore(store.db)
    await webhooks.create("https://hooks.example/a", ["job.started"], "whsec_" + "a" * 32)
    cache = events.SubscriptionCache(webhooks, ttl=60)

    answers = await asyncio.gather(*(cache.get() for _ in range(50)))

    assert webhooks.reads == 1
    assert all(len(answer.broad) == 1 for answer in answers)
    await cache.get()
    assert webhooks.reads == 1


async def test_an_invalidated_cache_reads_again_and_sees_the_change(store: JobStore) -> None:
    webhooks = CountingStore(store.db)
    cache = events.SubscriptionCache(webhooks, ttl=60)
    assert (await cache.get()).broad == ()

    loading = asyncio.ensure_future(cache.get())  # a read in flight, started before...
    await webhooks.create("https://hooks.example/b", ["job.failed"], "whsec_" + "b" * 32)
    cache.invalidate()  # ...the change this process made

    assert [hook.url for hook in (await cache.get()).broad] == ["https://hooks.example/b"]
    await loading
    assert [hook.url for hook in (await cache.get()).broad] == ["https://hooks.example/b"]


async def test_an_expired_cache_reads_again(store: JobStore) -> None:
    webhooks = CountingStore(store.db)
    cache = events.SubscriptionCache(webhooks, ttl=0)
    await cache.get()
    await cache.get()
    assert webhooks.reads == 2
