"""The worker hooks that turn what jobs do into webhook deliveries and e-mails.

``attach(hooks, store)`` subscribes them to a worker's hooks (the maintenance units do
it when a worker starts). On the hot path they cost next to nothing when nobody
listens: the subscriptions are cached (``notify.events``), and e-mail settings are in
memory. Then:

- ``job_started``: a crawl job with a ``webhook`` option gets its own subscription (to
  every job event) first; then ``job.started`` goes to the subscribers.
- ``job_succeeded``: ``job.succeeded``; and an e-mail to ``email.on_success``.
- ``job_failed`` (final failures only): ``job.failed``; and an e-mail to
  ``email.on_failure``.

The kinds that send notifications, and crawl helpers, are never reported
(``events.QUIET_KINDS``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any

from scrapeyard import config
from scrapeyard.notify import alerts, email, events, messages, runtime, signing
from scrapeyard.queue.crawls import CRAWL_KINDS
from scrapeyard.queue.jobs import Job
from scrapeyard.queue.notices import Draft, NoticeStore
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhooks import WebhookStore
from scrapeyard.worker import events as worker_events

"""Kinds whose ``webhook`` option subscribes a URL to the job's events."""

log = logging.getLogger(__name__)


class Notifications:
    """The hooks of one worker, on its store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._warned_secret = False

    def subscribe(self, hooks: worker_events.Hooks) -> None:
        hooks.subscribe("job_started", self.started)
        hooks.subscribe("job_succeeded", self.succeeded)
        hooks.subscribe("job_failed", self.failed)

    def unsubscribe(self, hooks: worker_events.Hooks) -> None:
        hooks.unsubscribe("job_started", self.started)
        hooks.unsubscribe("job_succeeded", self.succeeded)
        hooks.unsubscribe("job_failed", self.failed)

    async def started(self, job: Job, **_: Any) -> None:
        if job.kind in events.QUIET_KINDS:
            return
        url = job.payload.get("webhook") if job.kind in CRAWL_KINDS else None
        if isinstance(url, str) and url:
            await self._own_subscription(job, url)
        await events.emit(
            self.store,
            "job.started",
            {"job": events.job_summary(job, "running")},
            events.Scope(job_id=job.id),
        )

    async def succeeded(self, job: Job, result: Any, duration: float, **_: Any) -> None:
        if job.kind in events.QUIET_KINDS:
            return
        await events.emit(
            self.store,
            "job.succeeded",
            {
                "job": events.job_summary(job, "succeeded"),
                "result": events.bounded(result),
                "duration": round(duration, 3),
            },
            events.Scope(job_id=job.id),
        )
        settings = runtime.current().email
        if _tells(settings, settings.on_success, job):
            words = messages.job_succeeded(job, result, duration)
            await self._mail("job_succeeded", job, settings.on_success, words)

    async def failed(
        self, job: Job, error: Mapping[str, Any], duration: float, final: bool, **_: Any
    ) -> None:
        if not final or job.kind in events.QUIET_KINDS:
            return
        reported = {key: error.get(key) for key in ("type", "message")}
        await events.emit(
            self.store,
            "job.failed",
            {
                "job": events.job_summary(job, "failed"),
                "error": reported,
                "duration": round(duration, 3),
            },
            events.Scope(job_id=job.id),
        )
        settings = runtime.current().email
        if _tells(settings, settings.on_failure, job):
            words = messages.job_failed(job, error, duration)
            await self._mail("job_failed", job, settings.on_failure, words)

    async def _own_subscription(self, job: Job, url: str) -> None:
        settings = runtime.current().webhooks
        if settings.secret is not None:
            secret = settings.secret.get_secret_value()
        else:
            secret = signing.new_secret()
            if not self._warned_secret:
                self._warned_secret = True
                log.warning(
                    "a job's webhook option is signed with a secret nobody knows: set "
                    "webhooks.secret (SCRAPEYARD_WEBHOOKS__SECRET) to verify its deliveries"
                )
        _, created = await WebhookStore(self.store.db).ensure_for_job(
            job.id, url, events.JOB_EVENTS, secret
        )
        if created:
            events.cache_for(self.store.db).invalidate()

    async def _mail(self, kind: str, job: Job, to: list[str], words: messages.Message) -> None:
        # A run is told about once: keyed by the job and the time this run started.
        run = f"{job.started_at.timestamp() if job.started_at else 0.0:.6f}"
        draft = Draft(kind, str(job.id), run, to, words.subject, words.text, words.html)
        await alerts.notify(self.store, draft)


def _tells(settings: config.EmailSettings, recipients: list[str], job: Job) -> bool:
    return (
        bool(recipients)
        and email.enabled(settings)
        and (not settings.kinds or job.kind in settings.kinds)
    )


_attached: weakref.WeakKeyDictionary[worker_events.Hooks, Notifications] = (
    weakref.WeakKeyDictionary()
)


def attach(hooks: worker_events.Hooks, store: JobStore) -> Notifications:
    """Subscribe the notification hooks to ``hooks`` for ``store`` (once per hooks)."""
    current = _attached.get(hooks)
    if current is not None:
        if current.store is store:
            return current
        current.unsubscribe(hooks)
    made = Notifications(store)
    made.subscribe(hooks)
    _attached[hooks] = made
    return made


async def purge(store: JobStore) -> tuple[int, int]:
    """Forget old deliveries and notices; how many of each."""
    settings = runtime.current().webhooks
    deliveries = await WebhookStore(store.db).purge(settings.retention)
    notices = await NoticeStore(store.db).purge(settings.retention)
    return deliveries, notices
