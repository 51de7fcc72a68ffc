"""What a crawl tells the outside world while it runs: ``job.page`` batches and alerts.

``watch(ctx, state, crawl_id, lead=...)`` wraps a crawl's ``SqlCrawlState``. After
every commit it passes on how many page records were stored (to ``notify.pages``, on
the lead participant, when someone subscribes to ``job.page``) and which stored pages
ended in ``429`` and which circuits opened (to ``notify.alerts``, when rate-limit
alerts are configured). With neither, it only forwards calls. Its own failures are
logged, never raised: a notification must not fail a commit that already happened,
which the crawler would then repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from scrapeyard.crawl.frontier import Counters, Discovered, Entry, Outcome, Tally
from scrapeyard.notify import alerts, email, runtime
from scrapeyard.notify.pages import PageEvents
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.crawl_state import SqlCrawlState

log = logging.getLogger(__name__)


class WatchedState:
    """A ``CrawlState`` that reports what each commit stored (see the module docstring)."""

    def __init__(
        self,
        inner: SqlCrawlState,
        ctx: JobContext,
        *,
        pages: PageEvents | None,
        rates: alerts.RateWatch | None,
    ) -> None:
        self.inner = inner
        self.ctx = ctx
        self.pages = pages
        self.rates = rates

    async def seed(self, urls: Sequence[Discovered]) -> int:
        return await self.inner.seed(urls)

    async def claim(self, limit: int) -> list[Entry]:
        return await self.inner.claim(limit)

    async def commit(
        self, outcomes: Sequence[Outcome], discovered: Sequence[Discovered], tally: Tally
    ) -> int:
        admitted = await self.inner.commit(outcomes, discovered, tally)
        if self.pages is not None or self.rates is not None:
            try:
                await self._report(outcomes)
            except Exception:
                self.ctx.log.exception("crawl notifications failed; the crawl goes on")
        return admitted

    async def _report(self, outcomes: Sequence[Outcome]) -> None:
        records = [outcome.record for outcome in outcomes if outcome.record is not None]
        if self.rates is not None:
            for record in records:
                self.rates.page(record.url, record.status)
            self.rates.circuits(self.ctx.resources.circuits.snapshot())
            await self.rates.flush()
        if self.pages is not None and records:
            await self.pages.stored(len(records))

    async def renew(self) -> None:
        await self.inner.renew()

    async def release(self, entries: Sequence[Entry]) -> None:
        await self.inner.release(entries)

    async def counters(self) -> Counters:
        return await self.inner.counters()

    async def note(self, **stats: Any) -> None:
        await self.inner.note(**stats)

    async def close(self) -> None:
        """Send the pages not sent yet (the end of this participant's run)."""
        if self.pages is None:
            return
        try:
            await self.pages.flush()
        except Exception:
            self.ctx.log.exception("sending the last job.page events failed")


async def watch(
    ctx: JobContext, inner: SqlCrawlState, crawl_id: int, *, lead: bool
) -> WatchedState:
    """``inner``, watched as far as anyone wants to hear about this crawl."""
    settings = runtime.current()
    pages = None
    if lead:
        try:
            pages = await PageEvents.open(ctx.store, crawl_id, settings.webhooks)
        except Exception:
            ctx.log.exception("cannot tell whether anyone wants this crawl's pages")
    rates = None
    if email.enabled(settings.email) and settings.email.alerts:
        rates = alerts.RateWatch(ctx.store, settings.email)
    return WatchedState(inner, ctx, pages=pages, rates=rates)
