"""The crawl engine's ``CrawlState``, kept in the database by ``queue.crawls``.

The engine speaks in its own types (``Entry``, ``Outcome``, ``PageRecord``); the store
speaks in rows. This adapter translates, so neither package imports the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from scrapeyard.crawl.frontier import (
    Counters,
    Discovered,
    Entry,
    Fate,
    Outcome,
    PageRecord,
    Tally,
)
from scrapeyard.queue.crawls import CrawlStore, Retry


class SqlCrawlState:
    """One participant's view of one crawl's frontier and records."""

    def __init__(self, store: CrawlStore, job_id: int, participant: str, *, lease: float) -> None:
        self.store = store
        self.job_id = job_id
        self.participant = participant
        self.lease = lease

    async def seed(self, urls: Sequence[Discovered]) -> int:
        return await self.store.admit(self.job_id, [_discovered_row(url) for url in urls])

    async def claim(self, limit: int) -> list[Entry]:
        claimed = await self.store.claim(self.job_id, self.participant, limit, self.lease)
        return [Entry(c.id, c.url, c.url_hash, c.depth, c.attempts) for c in claimed]

    async def commit(
        self, outcomes: Sequence[Outcome], discovered: Sequence[Discovered], tally: Tally
    ) -> int:
        finished = [(o.entry.id, str(o.fate)) for o in outcomes if o.fate is not Fate.RETRY]
        retries = [
            Retry(o.entry.id, o.retry_in, o.count_attempt) for o in outcomes if o.fate is Fate.RETRY
        ]
        records = {o.entry.id: _record_row(o) for o in outcomes if o.record is not None}
        return await self.store.commit(
            self.job_id,
            self.participant,
            finished=finished,
            retries=retries,
            records=records,
            discovered=[_discovered_row(url) for url in discovered],
            counts=tally.as_dict(),
        )

    async def renew(self) -> None:
        await self.store.renew(self.job_id, self.participant, self.lease)

    async def release(self, entries: Sequence[Entry]) -> None:
        await self.store.release(self.job_id, self.participant, [e.id for e in entries])

    async def counters(self) -> Counters:
        row = await self.store.counters(self.job_id)
        if row is None:
            return Counters()
        return Counters(
            admitted=row["admitted"],
            discovered=row["discovered"],
            fetched=row["fetched"],
            failed=row["failed"],
            skipped_robots=row["skipped_robots"],
            skipped_scope=row["skipped_scope"],
            skipped_content_type=row["skipped_content_type"],
            bytes=row["bytes"],
            open=row["open"],
            max_pages=row["max_pages"],
            extra=dict(row["stats"] or {}),
        )

    async def note(self, **stats: Any) -> None:
        await self.store.note(self.job_id, stats)


# Shallow conversions: dataclasses.asdict would deep-copy every extracted value, and
# this runs for every page and every link.
_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(PageRecord))


def _page_row(record: PageRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _RECORD_FIELDS}


def _record_row(outcome: Outcome) -> dict[str, Any]:
    assert outcome.record is not None
    return _page_row(outcome.record)


def _discovered_row(url: Discovered) -> dict[str, Any]:
    return {
        "url": url.url,
        "url_hash": url.url_hash,
        "host": url.host,
        "depth": url.depth,
        "parent_id": url.parent_id,
        "source": url.source,
        "blocked": _page_row(url.blocked) if url.blocked is not None else None,
    }
