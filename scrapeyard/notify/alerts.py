"""Notices by e-mail: job notifications and rate-limit alerts, each sent at most once.

Every message is first written as a notice under a unique ``(kind, key, period)`` and,
in the same transaction, an ``email.send`` job is enqueued for it; a second writer of
the same key (another worker process, another host) gets nothing back and sends
nothing. Rate-limit alerts use the host as key and the hour (UTC, by the database's
clock) as period: one message per host and hour at most, across the whole fleet.

``RateWatch`` is what a crawl uses to notice a host worth an alert: pages that ended
in ``429 Too Many Requests`` after their retries (``email.alert_after`` of them in one
crawl), or the host's circuit breaker opening.
"""

from __future__ import annotations

import collections
import logging
import urllib.parse
from collections.abc import Iterable

from scrapeyard import config
from scrapeyard.crawl.circuits import CircuitSnapshot, CircuitState
from scrapeyard.notify import email, messages
from scrapeyard.queue import reporting
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.notices import Draft, NoticeStore
from scrapeyard.queue.store import JobStore

SEND_KIND = "email.send"
RATE_LIMIT = reporting.RATE_LIMIT_NOTICE

log = logging.getLogger(__name__)


def send_spec(notice_id: int) -> JobSpec:
    """The job that sends one notice."""
    return JobSpec(SEND_KIND, {"notice_id": notice_id}, max_attempts=5)


async def notify(store: JobStore, draft: Draft) -> int | None:
    """Write ``draft`` and queue its sending; its id, or ``None`` if it was a duplicate."""
    async with store.transaction() as tx:
        notice_id = await NoticeStore(store.db).add(draft, conn=tx)
        if notice_id is not None:
            await store.enqueue(send_spec(notice_id), conn=tx)
    return notice_id


async def rate_limited(
    store: JobStore, host: str, reason: str, settings: config.EmailSettings
) -> bool:
    """Alert the configured recipients that ``host`` is rate-limiting crawls, unless
    someone already did this hour; whether this call queued the message."""
    if not (email.enabled(settings) and settings.alerts):
        return False
    hour = (await NoticeStore(store.db).clock()).strftime("%Y-%m-%dT%H")
    words = messages.rate_limited(host, reason, hour)
    draft = Draft(RATE_LIMIT, host, hour, settings.alerts, words.subject, words.text, words.html)
    queued = await notify(store, draft) is not None
    if queued:
        log.warning("rate-limit alert about %s: %s", host, reason)
    return queued


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2].lower()


class RateWatch:
    """One crawl's watch for hosts worth a rate-limit alert (see the module docstring)."""

    def __init__(self, store: JobStore, settings: config.EmailSettings) -> None:
        self.store = store
        self.settings = settings
        self._too_many: collections.Counter[str] = collections.Counter()
        self._due: dict[str, str] = {}
        self._told: set[str] = set()

    def page(self, url: str, status: int | None) -> None:
        """A page record was stored with ``status``."""
        if status != 429:
            return
        host = _host(url)
        self._too_many[host] += 1
        count = self._too_many[host]
        if count >= self.settings.alert_after and host not in self._told:
            self._due[host] = f"{count} pages answered 429 Too Many Requests after retries"

    def circuits(self, snapshots: Iterable[CircuitSnapshot]) -> None:
        """The crawl's circuit breaker states; an open circuit is worth an alert."""
        for snapshot in snapshots:
            if snapshot.state is CircuitState.OPEN and snapshot.host not in self._told:
                self._due.setdefault(
                    snapshot.host,
                    f"its circuit opened after {snapshot.failures} failed requests in a row",
                )

    async def flush(self) -> None:
        """Send the alerts found since the last flush (each host once per crawl)."""
        due, self._due = self._due, {}
        for host, reason in due.items():
            self._told.add(host)
            await rate_limited(self.store, host, reason, self.settings)
