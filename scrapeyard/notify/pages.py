"""``job.page`` events: a crawl's stored pages, sent in batches rather than one by one.

The crawl's lead participant owns one ``PageEvents``. After each commit it learns how
many records were stored; once ``webhooks.page_batch_size`` are waiting, or
``webhooks.page_batch_interval`` has passed, it reads the records stored since its
cursor (its helpers' included) and emits them as one event per batch; at the end of
the run it sends the rest. The cursor is kept in the crawl's statistics, so a resumed
crawl carries on where the last run stopped instead of sending everything again.

A batch is at most ``page_batch_size`` pages and about ``BATCH_BYTES`` of JSON; a page
whose record alone is larger goes without its extracted ``data``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from scrapeyard import config
from scrapeyard.notify import events
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.store import JobStore

CURSOR_STAT = "page_events_through"
"""The crawl statistic holding the id of the last record sent."""
BATCH_BYTES = 512 * 1024
MAX_PAGE_BYTES = 128 * 1024
_FIELDS = ("url", "final_url", "status", "ok", "depth", "content_type", "content_hash", "error")


def page_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored page record as ``job.page`` carries it."""
    page = {name: record.get(name) for name in _FIELDS}
    fetched: datetime | None = record.get("fetched_at")
    page["fetched_at"] = fetched.isoformat() if fetched else None
    page["data"] = record.get("data")
    if len(orjson.dumps(page)) > MAX_PAGE_BYTES:
        page["data"] = None
        page["data_omitted"] = True
    return page


class PageEvents:
    """Emits one crawl's stored pages as ``job.page`` events (see the module docstring)."""

    def __init__(
        self,
        store: JobStore,
        job_id: int,
        settings: config.WebhookSettings,
        *,
        cursor: int = 0,
        batches_sent: int = 0,
    ) -> None:
        self.store = store
        self.crawls = CrawlStore(store.db)
        self.job_id = job_id
        self.settings = settings
        self.cursor = cursor
        self.batches = batches_sent
        self._waiting = 0
        self._last = time.monotonic()

    @classmethod
    async def open(
        cls, store: JobStore, job_id: int, settings: config.WebhookSettings
    ) -> PageEvents | None:
        """The emitter for crawl ``job_id``, or ``None`` when nobody wants its pages."""
        wanted = await events.subscribers(store.db, "job.page", events.Scope(job_id=job_id))
        if not wanted:
            return None
        row = await CrawlStore(store.db).counters(job_id)
        stats = dict((row or {}).get("stats") or {})
        sent = stats.get(CURSOR_STAT) or {}
        return cls(
            store,
            job_id,
            settings,
            cursor=int(sent.get("id", 0)),
            batches_sent=int(sent.get("batches", 0)),
        )

    async def stored(self, count: int) -> None:
        """``count`` records were just committed; send a batch if one is due."""
        self._waiting += count
        due = self._waiting >= self.settings.page_batch_size or (
            self._waiting and time.monotonic() - self._last >= self.settings.page_batch_interval
        )
        if due:
            await self.flush()

    async def flush(self) -> int:
        """Send every record stored since the cursor; how many pages went out."""
        sent = 0
        while True:
            records = await self.crawls.pages_after(
                self.job_id, self.cursor, self.settings.page_batch_size
            )
            if not records:
                break
            pages: list[dict[str, Any]] = []
            size = 0
            last_id = self.cursor
            for record in records:
                page = page_json(record)
                page_size = len(orjson.dumps(page))
                if pages and size + page_size > BATCH_BYTES:
                    break
                pages.append(page)
                size += page_size
                last_id = record["id"]
            self.batches += 1
            await events.emit(
                self.store,
                "job.page",
                {"job_id": self.job_id, "batch": self.batches, "pages": pages},
                events.Scope(job_id=self.job_id),
            )
            self.cursor = last_id
            sent += len(pages)
            await self.crawls.note(
                self.job_id, {CURSOR_STAT: {"id": self.cursor, "batches": self.batches}}
            )
        self._waiting = 0
        self._last = time.monotonic()
        return sent
