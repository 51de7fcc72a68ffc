"""The crawl loop: claim URLs, process them concurrently, commit outcomes in batches.

One ``Crawler`` is one participant in a crawl. Several can work the same crawl at once,
in different processes or on different hosts, because the frontier they share lives in
a ``CrawlState`` and hands out URLs under leases. The *lead* participant seeds the
frontier (start URLs, then sitemaps) and says when it has (``on_seeded``: the moment for
helpers to join); every participant runs until no URL is open anywhere, so a helper
that finds every open URL claimed by others waits for the pages they lead to.

Outcomes are committed in batches (every ``flush_interval`` or ``flush_size``
outcomes) together with the URLs their pages linked to. A participant killed between
two commits loses only its uncommitted work: those URLs' leases run out and someone
fetches them again, while every URL whose record was committed is never fetched again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from scrapeyard import errors
from scrapeyard.crawl import robots, sitemaps, urls
from scrapeyard.crawl.frontier import (
    Counters,
    CrawlState,
    Discovered,
    Entry,
    Outcome,
    Source,
    Tally,
)
from scrapeyard.crawl.options import CrawlOptions
from scrapeyard.crawl.pages import PageWork, Processed

log = logging.getLogger(__name__)

Progress = Callable[["Snapshot"], Awaitable[None]]
SITEMAP_BATCH = 500


@dataclass(frozen=True)
class Snapshot:
    """Progress for reporting: the crawl's counters plus this participant's rate."""

    counters: Counters
    pages_per_second: float
    elapsed: float


@dataclass
class _Pending:
    outcomes: list[Outcome] = field(default_factory=list)
    discovered: list[Discovered] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)


class Crawler:
    """One participant's run of a crawl (or scrape, or map)."""

    def __init__(
        self,
        options: CrawlOptions,
        state: CrawlState,
        work: PageWork,
        *,
        lead: bool = True,
        on_seeded: Callable[[], Awaitable[None]] | None = None,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        progress_interval: float = 1.0,
        flush_interval: float = 0.2,
        flush_size: int = 200,
        renew_interval: float = 5.0,
    ) -> None:
        self.options = options
        self.state = state
        self.work = work
        self.lead = lead
        self._on_seeded = on_seeded
        self.stop = stop or asyncio.Event()
        self._progress = progress
        self._progress_interval = progress_interval
        self._flush_interval = flush_interval
        self._flush_size = flush_size
        self._renew_interval = renew_interval
        self._local: collections.deque[Entry] = collections.deque()
        self._claim_lock = asyncio.Lock()
        self._pending = _Pending()
        self._committing = asyncio.Lock()
        self._committed = asyncio.Event()
        self._in_flight = 0
        self._seen: set[str] = set()
        self._out_of_scope: set[str] = set()
        # URLs found only beyond max_depth so far, with the shallowest depth seen.
        self._too_deep: dict[str, int] = {}
        self._seeding: asyncio.Task[None] | None = None
        self._finished = asyncio.Event()
        self._processed = 0
        self._started = time.monotonic()
        self._dry_until = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        # What stopped the run if a commit failed for good: ``run`` raises it.
        self._failure: BaseException | None = None

    # -- the run -----------------------------------------------------------------------

    async def run(self) -> Counters:
        """Crawl until no URL is open anywhere, or until ``stop``."""
        self._started = time.monotonic()
        if self.lead:
            await self._seed_start_urls()
            if self._on_seeded is not None:
                await self._on_seeded()
            if self.options.use_sitemap:
                self._seeding = asyncio.create_task(self._seed_sitemaps(), name="sitemaps")
        background = [
            asyncio.create_task(self._flush_loop(), name="crawl-flush"),
            asyncio.create_task(self._renew_loop(), name="crawl-renew"),
        ]
        if self._progress is not None:
            background.append(asyncio.create_task(self._progress_loop(), name="crawl-progress"))
        workers = [
            asyncio.create_task(self._worker(), name=f"crawl-worker-{n}")
            for n in range(self.options.concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if self._seeding is not None:
                self._seeding.cancel()
                await asyncio.gather(self._seeding, return_exceptions=True)
            for task in background:
                task.cancel()
            await asyncio.gather(*background, *self._tasks, return_exceptions=True)
            try:
                if self._failure is None:
                    await self._commit_all()
            finally:
                await self._give_back()
        if self._failure is not None:
            raise self._failure
        counters = await self.state.counters()
        if self._progress is not None:
            await self._progress(self._snapshot(counters))
        return counters

    async def _worker(self) -> None:
        while not self.stop.is_set() and not self._finished.is_set():
            entry = await self._next()
            if entry is None:
                continue
            self._in_flight += 1
            try:
                processed = await self.work.process(entry, stop=self.stop)
                await self._record(entry, processed)
            finally:
                self._in_flight -= 1

    async def _next(self) -> Entry | None:
        """The next URL to process, or ``None`` after waiting a little for more."""
        if self._local:
            return self._local.popleft()
        async with self._claim_lock:
            if self._local:
                return self._local.popleft()
            if time.monotonic() >= self._dry_until:
                claimed = await self._claim()
                if claimed:
                    self._local.extend(claimed)
                    return self._local.popleft()
                if await self._done():
                    self._finished.set()
                    return None
                # Dry for now: let the other workers wait instead of asking again.
                self._dry_until = time.monotonic() + 0.25
        # Wait for our next commit (it may add URLs) or a moment, then look again.
        self._committed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.25):
                await self._committed.wait()
        return None

    async def _claim(self) -> list[Entry]:
        try:
            return await self.state.claim(self.options.concurrency * 2)
        except errors.DatabaseUnavailable as exc:
            log.warning("cannot claim URLs: %s", exc)
            await asyncio.sleep(1.0)
            return []

    async def _done(self) -> bool:
        """Whether this participant may stop: nothing in flight, nothing to commit,
        and no URL open anywhere (for the lead, sitemap seeding included)."""
        if self._in_flight or self._pending.outcomes:
            return False
        if self._seeding is not None and not self._seeding.done():
            return False
        try:
            return (await self.state.counters()).open == 0
        except errors.DatabaseUnavailable:
            return False

    # -- recording outcomes ------------------------------------------------------------

    async def _record(self, entry: Entry, processed: Processed) -> None:
        self._pending.outcomes.append(processed.outcome)
        self._pending.tally.add(processed.tally)
        self._processed += 1
        if processed.final_url is not None:
            self._alias(processed.final_url, entry)
        for link in processed.links:
            found = await self._discover(link, parent=entry, depth=entry.depth + 1)
            if found is not None:
                self._pending.discovered.append(found)
        if len(self._pending.outcomes) >= self._flush_size:
            self._spawn(self._commit_all())

    async def _discover(self, link: str, *, parent: Entry | None, depth: int) -> Discovered | None:
        """``link`` as a frontier candidate, or ``None`` if seen before or out of scope.

        A URL robots.txt disallows comes back marked ``blocked``: it is reported, never
        fetched, and does not use up ``max_pages``.
        """
        try:
            url = self.options.normalizer(link)
        except (errors.InvalidInput, errors.UnsupportedScheme):
            return None
        key = urls.url_hash(url)
        if key in self._seen or key in self._out_of_scope:
            return None
        too_deep_at = self._too_deep.get(key)
        if too_deep_at is not None and depth >= too_deep_at:
            return None
        why = self.options.scope.check(url, depth)
        if why is not None:
            if why is urls.OutOfScope.TOO_DEEP:
                # Only too deep from here: concurrent pages are not processed strictly
                # shallowest first, so the URL may yet be found nearer a start URL.
                self._too_deep[key] = depth
            else:
                self._too_deep.pop(key, None)
                self._out_of_scope.add(key)
            if too_deep_at is None:
                self._pending.tally.skipped_scope += 1
            return None
        if too_deep_at is not None:
            # Counted as skipped when it was found too deep; it is followed after all.
            del self._too_deep[key]
            self._pending.tally.skipped_scope -= 1
        self._seen.add(key)
        blocked = None
        if self.options.respect_robots:
            rules = await self.work.robots.get(url)
            # Only rules that were read block a URL for good here; an unreachable
            # robots.txt blocks for now, which the URL's own fetch sorts out.
            if rules.status is robots.RobotsStatus.PARSED and not rules.can_fetch(
                url, self.options.user_agent
            ):
                blocked = self.work.robots_record(url, key, depth, rules)
        parent_id = parent.id if parent is not None else None
        source: Source = "link" if parent is not None else "sitemap"
        return Discovered(url, key, _host(url), depth, parent_id, source, blocked)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._spawned_done)
        return task

    def _spawned_done(self, task: asyncio.Task[None]) -> None:
        """A background commit that failed for good stops the run with its error: the
        crawl must not wait forever for the URLs whose outcomes it could not store."""
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        if self._failure is None:
            self._failure = task.exception()
            log.error("cannot store crawl results; stopping", exc_info=self._failure)
        self._finished.set()

    def _alias(self, final_url: str, entry: Entry) -> None:
        """Remember a redirect target as done, so a link to it is not fetched again."""
        try:
            url = self.options.normalizer(final_url)
        except (errors.InvalidInput, errors.UnsupportedScheme):
            return
        key = urls.url_hash(url)
        if key == entry.url_hash or key in self._seen:
            return
        self._seen.add(key)
        self._pending.discovered.append(
            Discovered(url, key, _host(url), entry.depth, entry.id, "redirect")
        )

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            # In a task of its own, which ``run`` awaits: stopping this loop must not
            # cancel a commit half-way, which would drop the batch it took.
            await asyncio.shield(self._spawn(self._commit_all()))

    async def _commit_all(self) -> None:
        """Commit everything pending; retry while the database is away."""
        async with self._committing:
            delay = 0.1
            while self._pending.outcomes or self._pending.discovered:
                batch, self._pending = self._pending, _Pending()
                try:
                    await self.state.commit(batch.outcomes, batch.discovered, batch.tally)
                except errors.DatabaseUnavailable as exc:
                    log.warning("cannot store crawl results yet (%s); retrying", exc)
                    self._put_back(batch)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                except BaseException:
                    # Kept, so the URLs it holds are handed back when the run stops.
                    self._put_back(batch)
                    raise
            self._dry_until = 0.0
            self._committed.set()

    def _put_back(self, batch: _Pending) -> None:
        self._pending.outcomes[:0] = batch.outcomes
        self._pending.discovered[:0] = batch.discovered
        batch.tally.add(self._pending.tally)
        self._pending.tally = batch.tally

    async def _give_back(self) -> None:
        """Hand back the URLs taken and not stored (not yet started, or whose outcome
        could not be committed), so another participant or attempt takes them at once
        rather than when their lease runs out; and the idle connection slots."""
        untouched = list(self._local)
        untouched += [outcome.entry for outcome in self._pending.outcomes]
        self._local.clear()
        if untouched:
            try:
                await self.state.release(untouched)
            except errors.DatabaseUnavailable as exc:
                log.warning(
                    "cannot hand back %d URLs (%s); their leases will run out", len(untouched), exc
                )
        await self._let_hosts_go()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self._renew_interval)
            try:
                # Not beside a commit of ours: both update our claimed rows, in different
                # orders, and PostgreSQL would break the deadlock by failing one.
                async with self._committing:
                    await self.state.renew()
                await self.work.limits.renew()
            except errors.DatabaseUnavailable as exc:
                log.warning("cannot renew crawl leases: %s", exc)

    async def _let_hosts_go(self) -> None:
        """Give back the shared connection slots no other crawl of this process uses,
        rather than hold them, idle, until their lease runs out."""
        try:
            await self.work.limits.renew()
        except errors.DatabaseUnavailable as exc:
            log.warning("cannot give back connection slots: %s", exc)

    async def _progress_loop(self) -> None:
        assert self._progress is not None
        while True:
            await asyncio.sleep(self._progress_interval)
            try:
                await self._progress(self._snapshot(await self.state.counters()))
            except errors.DatabaseUnavailable:
                continue

    def _snapshot(self, counters: Counters) -> Snapshot:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        return Snapshot(counters, self._processed / elapsed, elapsed)

    # -- seeding -----------------------------------------------------------------------

    async def _seed_start_urls(self) -> None:
        seeds = []
        for url in self.options.urls:
            normalized = self.options.normalizer(url)
            key = urls.url_hash(normalized)
            self._seen.add(key)
            seeds.append(Discovered(normalized, key, _host(normalized), 0, None, "start"))
        await self.state.seed(seeds)

    async def _seed_sitemaps(self) -> None:
        """Add the URLs the start hosts' sitemaps list (depth 1), once per crawl."""
        if (await self.state.counters()).extra.get("sitemaps_read"):
            return
        discovery = sitemaps.Discovery(
            self.work.client,
            max_urls=self.options.max_pages or sitemaps.Discovery(self.work.client).max_urls,
            user_agent=self.options.user_agent,
        )
        for start in dict.fromkeys(robots.origin_of(u) + "/" for u in self.options.urls):
            listed: list[str] = []
            if self.options.respect_robots:
                listed = list((await self.work.robots.get(start)).sitemaps)
            batch: list[Discovered] = []
            async for loc in discovery.urls(start, listed):
                found = await self._discover(loc, parent=None, depth=1)
                if found is not None:
                    batch.append(found)
                if len(batch) >= SITEMAP_BATCH:
                    await self.state.seed(batch)
                    batch = []
            if batch:
                await self.state.seed(batch)
        await self.state.note(
            sitemaps_read=len(discovery.sitemaps_read),
            sitemap_errors=[f"{url}: {why}" for url, why in discovery.errors[:20]],
        )
        self._committed.set()


def _host(normalized_url: str) -> str:
    rest = normalized_url.split("://", 1)[1]
    return rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
