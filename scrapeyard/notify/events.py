"""Webhook events, who subscribes to them, and ``emit``: the one way an event goes out.

Events:

==================  =============================================  ==================
event               data                                           scope
==================  =============================================  ==================
job.started         job                                            the job
job.page            job_id, batch, pages (a crawl's stored pages)  the job
job.succeeded       job, result (bounded), duration                the job
job.failed          job, error, duration (only when final)         the job
schedule.fired      whatever the scheduler sends                   the schedule
dataset.changed     whatever the datasets code sends               the job, if any
==================  =============================================  ==================

A subscription matches an event it lists when it is global, when it belongs to the
event's job, or when it belongs to the event's schedule (the schedule that fired, or
the one whose fire enqueued the event's job). Other features call ``emit``::

    from scrapeyard.notify import events

    await events.emit(store, "schedule.fired", {"schedule_id": 3, "job_id": 41},
                      events.Scope(schedule_id=3, job_id=41), conn=tx)

With ``conn`` the deliveries (and the jobs that send them) commit or roll back with the
caller's transaction, so an event exists exactly when what it reports does. ``emit``
returns at once: ``webhook.deliver`` jobs do the sending, retrying for about a day.

Subscriptions are cached per process for ``webhooks.cache_ttl`` seconds, so emitting
costs no query at all while nobody subscribes; a subscription made through the API
reaches running workers within that time.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import config, errors
from scrapeyard.notify import runtime, signing
from scrapeyard.queue import retry
from scrapeyard.queue.database import Database
from scrapeyard.queue.jobs import Job, JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhook_records import NewDelivery, Subscriptions, Webhook
from scrapeyard.queue.webhooks import WebhookStore

EVENTS = (
    "job.started",
    "job.page",
    "job.succeeded",
    "job.failed",
    "schedule.fired",
    "dataset.changed",
)
JOB_EVENTS = ("job.started", "job.page", "job.succeeded", "job.failed")
DELIVER_KIND = "webhook.deliver"
QUIET_KINDS = frozenset({DELIVER_KIND, "email.send", "crawl.helper"})
"""Kinds whose own life is never reported: a delivery about a delivery would never end,
and helpers are part of their crawl."""
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_RESULT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Scope:
    """What an event is about: a job, a schedule, both, or neither."""

    job_id: int | None = None
    schedule_id: int | None = None


def check_events(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` without duplicates; ``InvalidInput`` for an unknown event."""
    if not names:
        raise errors.InvalidInput("events", f"name at least one of: {', '.join(EVENTS)}")
    for index, name in enumerate(names):
        if name not in EVENTS:
            raise errors.InvalidInput(
                f"events[{index}]", f"unknown event {name!r}; known: {', '.join(EVENTS)}"
            )
    return tuple(dict.fromkeys(names))


class SubscriptionCache:
    """One process's copy of a database's subscriptions, refreshed after ``ttl`` seconds."""

    def __init__(self, store: WebhookStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._value: Subscriptions | None = None
        self._loaded_at = 0.0
        self._generation = 0
        # One read for every job that asks at once (a worker starting 50 jobs together
        # would otherwise read the subscriptions 50 times). A lock, not a shared task:
        # a caller that is cancelled leaves nothing running behind it.
        self._lock = asyncio.Lock()

    def _fresh(self) -> Subscriptions | None:
        if self._value is not None and time.monotonic() - self._loaded_at < self.ttl:
            return self._value
        return None

    async def get(self) -> Subscriptions:
        value = self._fresh()
        if value is not None:
            return value
        async with self._lock:
            value = self._fresh()
            if value is not None:  # another caller read them meanwhile
                return value
            generation = self._generation
            value = await self.store.subscriptions()
            if generation == self._generation:  # not invalidated meanwhile
                self._value, self._loaded_at = value, time.monotonic()
            return value

    def invalidate(self) -> None:
        """Read the subscriptions again next time (after this process changed them)."""
        self._value = None
        self._generation += 1


_caches: weakref.WeakKeyDictionary[Database, SubscriptionCache] = weakref.WeakKeyDictionary()


def cache_for(db: Database, ttl: float | None = None) -> SubscriptionCache:
    """The subscription cache of ``db`` in this process."""
    cache = _caches.get(db)
    if cache is None:
        if ttl is None:
            ttl = runtime.current().webhooks.cache_ttl
        cache = _caches[db] = SubscriptionCache(WebhookStore(db), ttl)
    return cache


async def subscribers(db: Database, event: str, scope: Scope) -> list[Webhook]:
    """The active subscriptions that ``event`` about ``scope`` goes to."""
    cache = cache_for(db)
    known = await cache.get()
    found = [hook for hook in known.broad if hook.scope == "global" and hook.wants(event)]
    for_schedules = [hook for hook in known.broad if hook.scope == "schedule" and hook.wants(event)]
    if for_schedules:
        schedule_id = scope.schedule_id
        if schedule_id is None and scope.job_id is not None:
            schedule_id = await cache.store.schedule_of(scope.job_id)
        found += [hook for hook in for_schedules if hook.scope_id == schedule_id]
    if scope.job_id is not None and scope.job_id in known.job_ids:
        found += [hook for hook in await cache.store.for_job(scope.job_id) if hook.wants(event)]
    return found


def message(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The body of a webhook request: ``{"type", "timestamp", "data"}``."""
    return {
        "type": event,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "data": dict(data),
    }


def delivery_spec(delivery_id: int, settings: config.WebhookSettings) -> JobSpec:
    """The job that sends one delivery, with the configured retry schedule."""
    delays = tuple(settings.retry_delays)
    return JobSpec(
        DELIVER_KIND,
        {"delivery_id": delivery_id},
        queue=settings.queue,
        max_attempts=len(delays) + 1,
        retry=retry.RetryPolicy(
            backoff="fixed",
            base_delay=delays[0] if delays else 0.0,
            max_delay=max(delays, default=0.0),
            jitter=0.1,
            delays=delays,
        ),
        timeout=settings.timeout + 30.0,
    )


async def emit(
    store: JobStore,
    event: str,
    data: Mapping[str, Any],
    scope: Scope = Scope(),
    *,
    conn: AsyncConnection | None = None,
    settings: config.WebhookSettings | None = None,
) -> list[int]:
    """Queue ``event`` for every matching subscription; the new deliveries' ids.

    ``data`` must be JSON-serialisable and, as a message, at most ``MAX_MESSAGE_BYTES``.
    With ``conn``, everything is written in the caller's transaction. ``settings`` (the
    retry schedule, the queue) default to this process's (``runtime``).
    """
    if event not in EVENTS:
        raise errors.InvalidInput("event", f"unknown event {event!r}; known: {', '.join(EVENTS)}")
    targets = await subscribers(store.db, event, scope)
    if not targets:
        return []
    body = message(event, data)
    try:
        size = len(orjson.dumps(body))
    except TypeError as exc:
        raise errors.InvalidInput("data", f"is not JSON-serialisable: {exc}") from None
    if size > MAX_MESSAGE_BYTES:
        raise errors.InvalidInput("data", f"is {size:,} bytes; at most {MAX_MESSAGE_BYTES:,}")
    new = [NewDelivery(hook.id, event, signing.new_message_id(), body) for hook in targets]
    settings = settings or runtime.current().webhooks
    if conn is not None:
        return await _queue(store, new, conn, settings)
    async with store.transaction() as tx:
        return await _queue(store, new, tx, settings)


async def _queue(
    store: JobStore,
    new: Sequence[NewDelivery],
    tx: AsyncConnection,
    settings: config.WebhookSettings,
) -> list[int]:
    hooks = WebhookStore(store.db)
    ids = await hooks.add_deliveries(tx, new)
    jobs = await store.enqueue_many([delivery_spec(i, settings) for i in ids], conn=tx)
    await hooks.assign_jobs(tx, list(zip(ids, jobs, strict=True)))
    return ids


async def redeliver(
    store: JobStore, delivery_id: int, settings: config.WebhookSettings | None = None
) -> bool:
    """Send a delivery again, with a fresh retry schedule; whether it exists."""
    hooks = WebhookStore(store.db)
    settings = settings or runtime.current().webhooks
    async with store.transaction() as tx:
        if not await hooks.reset_for_redelivery(tx, delivery_id):
            return False
        job = await store.enqueue(delivery_spec(delivery_id, settings), conn=tx)
        await hooks.assign_jobs(tx, [(delivery_id, job.id)])
    return True


def job_summary(job: Job, status: str) -> dict[str, Any]:
    """A job as events describe it: no payload (it may hold credentials), no result."""
    return {
        "id": job.id,
        "kind": job.kind,
        "queue": job.queue,
        "status": status,
        "attempt": job.attempts,
        "max_attempts": job.max_attempts,
        "unique_key": job.unique_key,
        "chain_id": job.chain_id,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
    }


def bounded(value: Any, limit: int = MAX_RESULT_BYTES) -> Any:
    """``value`` if its JSON fits in ``limit`` bytes, else a note saying how big it was."""
    try:
        size = len(orjson.dumps(value))
    except TypeError:
        return {"omitted": True, "reason": "not JSON-serialisable"}
    if size <= limit:
        return value
    return {"omitted": True, "reason": f"{size:,} bytes; webhooks carry at most {limit:,}"}
