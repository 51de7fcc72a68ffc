"""Crawl storage: per-crawl counters, the persistent frontier, and the page records.

A crawl is a job; its id keys everything here. The frontier holds every URL the crawl
knows (unique per crawl by the hash of the normalised URL) with its state; several
participants claim URLs from it the way workers claim jobs, under leases, and commit
what became of them in one transaction per batch: the outcome, the page record, the
URLs the page linked to, the counters. A URL whose record is committed is never handed
out again; a URL claimed by a participant that died comes back when its lease runs out.

``max_pages`` caps the URLs admitted for fetching; the crawl's row is locked while a
batch is admitted, so concurrent participants never admit more than the cap together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard.queue import dialects, queries
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.tables import crawl_frontier, crawl_pages, crawls

CRAWL_KINDS = frozenset({"scrape", "crawl", "map"})
"""The job kinds that keep a crawl: a frontier, counters and page records."""
OPEN_STATES = ("queued", "claimed")


def is_open(state: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """``state IN ('queued', 'claimed')``, its values written into the SQL.

    That is the condition of the partial index ``ix_crawl_frontier_open``, and a
    database uses a partial index only for a query whose condition it can see implies
    the index's: ``IN (?, ?)`` proves nothing. With bound values SQLite read every URL
    of the crawl and sorted them for each claim, which slowed long crawls down.
    """
    return state.in_(sa.bindparam("open_states", OPEN_STATES, expanding=True, literal_execute=True))


FINAL_STATES = ("done", "failed", "skipped")
COUNTERS = (
    "fetched",
    "failed",
    "skipped_robots",
    "skipped_scope",
    "skipped_content_type",
    "bytes",
)


@dataclass(frozen=True)
class ClaimedUrl:
    id: int
    url: str
    url_hash: str
    depth: int
    attempts: int


@dataclass(frozen=True)
class Retry:
    """A claimed URL to put back, to be tried again after ``delay`` seconds."""

    id: int
    delay: float
    count_attempt: bool = True


@dataclass(frozen=True)
class PagesPage:
    """A page of page records (oldest first) and the cursor of the next one."""

    records: list[dict[str, Any]]
    next_cursor: str | None


def _initial_state(url: Mapping[str, Any]) -> str:
    if url["source"] == "redirect":
        return "done"  # fetched already, under the URL that redirected to it
    return "skipped" if url.get("blocked") else "queued"


class CrawlStore:
    """Every statement about crawls, on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dialect = db.engine.dialect.name
        self._insert_url = (
            dialects.insert_ignoring_conflicts(
                self._dialect, crawl_frontier, ["job_id", "url_hash"]
            )
            .values(updated_at=now())
            .returning(crawl_frontier.c.id, crawl_frontier.c.url_hash, crawl_frontier.c.state)
        )
        self._insert_page = dialects.insert_ignoring_conflicts(
            self._dialect, crawl_pages, ["job_id", "url_hash"]
        )

    # -- lifecycle -----------------------------------------------------------------------

    async def ensure(self, job_id: int, kind: str, max_pages: int | None) -> None:
        """Create the crawl's row if this is its first run (a resumed crawl keeps it)."""
        stmt = dialects.insert_ignoring_conflicts(self._dialect, crawls, ["job_id"]).values(
            job_id=job_id,
            kind=kind,
            max_pages=max_pages,
            admitted=0,
            discovered=0,
            stats={},
            started_at=now(),
            updated_at=now(),
            **dict.fromkeys(COUNTERS, 0),
        )
        async with self.db.write() as tx:
            await tx.execute(stmt)

    async def admit(self, job_id: int, urls: Sequence[Mapping[str, Any]]) -> int:
        """Add URLs (start, sitemap) to the frontier; how many were new and admitted."""
        async with self.db.write() as tx:
            return await self._admit(tx, job_id, urls)

    async def _admit(
        self, tx: AsyncConnection, job_id: int, urls: Sequence[Mapping[str, Any]]
    ) -> int:
        if not urls:
            return 0
        limits = crawls.select().where(crawls.c.job_id == job_id)
        if self._dialect == "postgresql":
            limits = limits.with_for_update()
        crawl = (await tx.execute(limits)).mappings().one()
        rows = [
            {
                "job_id": job_id,
                "url_hash": url["url_hash"],
                "url": url["url"],
                "host": url["host"][:255],
                "depth": url["depth"],
                "parent_id": url["parent_id"],
                "source": url["source"],
                "state": _initial_state(url),
                "attempts": 0,
            }
            for url in urls
        ]
        inserted = (await tx.execute(self._insert_url, rows)).all()
        new = sorted(row.id for row in inserted if row.state == "queued")
        blocked = {row.url_hash for row in inserted if row.state == "skipped"}
        if blocked:
            await tx.execute(
                self._insert_page,
                [
                    {**url["blocked"], "job_id": job_id}
                    for url in urls
                    if url["url_hash"] in blocked and url.get("blocked")
                ],
            )
        admitted = len(new)
        if crawl["max_pages"] is not None:
            room = max(crawl["max_pages"] - crawl["admitted"], 0)
            if admitted > room:
                dropped = new[room:]
                await tx.execute(
                    sa.update(crawl_frontier)
                    .where(crawl_frontier.c.id.in_(dropped))
                    .values(state="dropped", updated_at=now())
                )
                admitted = room
        if new or blocked:
            await tx.execute(
                sa.update(crawls)
                .where(crawls.c.job_id == job_id)
                .values(
                    admitted=crawls.c.admitted + admitted,
                    discovered=crawls.c.discovered + len(new) + len(blocked),
                    skipped_robots=crawls.c.skipped_robots + len(blocked),
                    updated_at=now(),
                )
            )
        return admitted

    # -- a participant's side ------------------------------------------------------------

    async def claim(
        self, job_id: int, participant: str, limit: int, lease: float
    ) -> list[ClaimedUrl]:
        """Lease up to ``limit`` open URLs to ``participant``, shallowest first."""
        f = crawl_frontier
        claimable = sa.or_(
            sa.and_(f.c.state == "queued", sa.or_(f.c.retry_at.is_(None), f.c.retry_at <= now())),
            sa.and_(f.c.state == "claimed", f.c.lease_expires_at < now()),
        )
        picked = (
            sa.select(f.c.id)
            .where(f.c.job_id == job_id, is_open(f.c.state), claimable)
            .order_by(f.c.depth, f.c.id)
            .limit(limit)
        )
        stmt = dialects.claim_rows(
            self._dialect,
            f,
            picked,
            {
                "state": "claimed",
                "claimed_by": participant,
                "lease_expires_at": seconds_from_now(lease),
                "updated_at": now(),
            },
        ).returning(f.c.id, f.c.url, f.c.url_hash, f.c.depth, f.c.attempts)
        async with self.db.write(durable=False) as tx:
            rows = (await tx.execute(stmt)).all()
        return sorted(
            (ClaimedUrl(r.id, r.url, r.url_hash, r.depth, r.attempts) for r in rows),
            key=lambda url: (url.depth, url.id),
        )

    async def commit(
        self,
        job_id: int,
        participant: str,
        *,
        finished: Sequence[tuple[int, str]],
        retries: Sequence[Retry],
        records: Mapping[int, Mapping[str, Any]],
        discovered: Sequence[Mapping[str, Any]],
        counts: Mapping[str, int],
    ) -> int:
        """Record a batch of outcomes in one transaction; how many new URLs it admitted.

        ``finished`` is (frontier id, final state); ``records`` maps frontier ids to
        their page records. Only URLs this participant still holds are updated, and
        only their records are stored: a participant whose lease ran out (and whose
        URLs someone else claimed) writes nothing about them.
        """
        f = crawl_frontier
        ours = sa.and_(f.c.claimed_by == participant, f.c.state == "claimed")
        async with self.db.write(durable=False) as tx:
            settled: list[int] = []
            for state in FINAL_STATES:
                ids = [entry_id for entry_id, final in finished if final == state]
                if ids:
                    result = await tx.execute(
                        sa.update(f)
                        .where(f.c.id.in_(ids), ours)
                        .values(
                            state=state,
                            attempts=f.c.attempts + 1,
                            claimed_by=None,
                            lease_expires_at=None,
                            updated_at=now(),
                        )
                        .returning(f.c.id)
                    )
                    settled += result.scalars().all()
            if retries:
                await tx.execute(
                    sa.update(f)
                    .where(f.c.id == sa.bindparam("b_id"), ours)
                    .values(
                        state="queued",
                        attempts=f.c.attempts + sa.bindparam("b_inc"),
                        retry_at=seconds_from_now(sa.bindparam("b_delay", type_=sa.Float())),
                        claimed_by=None,
                        lease_expires_at=None,
                        updated_at=now(),
                    ),
                    [
                        {"b_id": r.id, "b_inc": int(r.count_attempt), "b_delay": r.delay}
                        for r in retries
                    ],
                )
            pages = [
                {**records[entry_id], "job_id": job_id}
                for entry_id in settled
                if entry_id in records
            ]
            if pages:
                await tx.execute(self._insert_page, pages)
            admitted = await self._admit(tx, job_id, discovered)
            if any(counts.values()):
                await tx.execute(
                    sa.update(crawls)
                    .where(crawls.c.job_id == job_id)
                    .values(
                        updated_at=now(),
                        **{
                            name: getattr(crawls.c, name) + counts.get(name, 0) for name in COUNTERS
                        },
                    )
                )
        return admitted

    async def renew(self, job_id: int, participant: str, lease: float) -> None:
        f = crawl_frontier
        async with self.db.write(durable=False) as tx:
            await tx.execute(
                sa.update(f)
                .where(
                    f.c.job_id == job_id,
                    # Implied by the next term, but spelled as the open-URL index's own
                    # condition so that the database reads that index, not the crawl.
                    is_open(f.c.state),
                    f.c.state == "claimed",
                    f.c.claimed_by == participant,
                )
                .values(lease_expires_at=seconds_from_now(lease))
            )

    async def release(self, job_id: int, participant: str, ids: Sequence[int]) -> None:
        """Hand claimed URLs back, unattempted."""
        f = crawl_frontier
        async with self.db.write(durable=False) as tx:
            await tx.execute(
                sa.update(f)
                .where(
                    f.c.id.in_(list(ids)),
                    f.c.claimed_by == participant,
                    f.c.state == "claimed",
                )
                .values(state="queued", claimed_by=None, lease_expires_at=None, updated_at=now())
            )

    # -- reading -------------------------------------------------------------------------

    async def counters(self, job_id: int) -> dict[str, Any] | None:
        """The crawl's row with ``open`` (URLs queued or claimed) added; None if unknown."""
        open_urls = (
            sa.select(sa.func.count())
            .where(crawl_frontier.c.job_id == job_id, is_open(crawl_frontier.c.state))
            .scalar_subquery()
        )
        stmt = sa.select(crawls, open_urls.label("open")).where(crawls.c.job_id == job_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().one_or_none()
        return dict(row) if row is not None else None

    async def shown_counters(self, view: queries.JobView) -> dict[str, Any] | None:
        """A crawl job's counters as the API and dashboard show them (``view`` read
        ``with_crawl``). A running crawl's lead counts its backlog every second and
        reports it as progress; that figure is used rather than counted again on every
        poll, which would read the crawl's whole backlog each time."""
        job = view.job
        queued = (job.progress or {}).get("queued") if job.status is JobStatus.RUNNING else None
        if isinstance(queued, int) and view.crawl is not None:
            return {**view.crawl, "open": queued}
        return await self.counters(job.id)

    async def note(self, job_id: int, stats: Mapping[str, Any]) -> None:
        """Merge ``stats`` into the crawl's free-form statistics."""
        async with self.db.write() as tx:
            current = await tx.scalar(sa.select(crawls.c.stats).where(crawls.c.job_id == job_id))
            await tx.execute(
                sa.update(crawls)
                .where(crawls.c.job_id == job_id)
                .values(stats={**(current or {}), **stats}, updated_at=now())
            )

    async def pages(
        self,
        job_id: int,
        *,
        ok: bool | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> PagesPage:
        """Page records of a crawl in the order they were stored."""
        stmt = (
            sa.select(crawl_pages)
            .where(crawl_pages.c.job_id == job_id)
            .order_by(crawl_pages.c.id)
            .limit(limit + 1)
        )
        if ok is not None:
            stmt = stmt.where(crawl_pages.c.ok.is_(ok))
        if cursor is not None:
            stmt = stmt.where(crawl_pages.c.id > queries.decode_cursor(cursor))
        async with self.db.read() as conn:
            rows = [dict(row) for row in (await conn.execute(stmt)).mappings().all()]
        more = len(rows) > limit
        rows = rows[:limit]
        return PagesPage(rows, queries.encode_cursor(rows[-1]["id"]) if more and rows else None)

    async def pages_after(
        self, job_id: int, after_id: int, limit: int, *, ok: bool | None = None
    ) -> list[dict[str, Any]]:
        """Records stored after record ``after_id``: for following a crawl as it runs,
        and for streaming exports in constant memory."""
        stmt = (
            sa.select(crawl_pages)
            .where(crawl_pages.c.job_id == job_id, crawl_pages.c.id > after_id)
            .order_by(crawl_pages.c.id)
            .limit(limit)
        )
        if ok is not None:
            stmt = stmt.where(crawl_pages.c.ok.is_(ok))
        async with self.db.read() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings().all()]

    async def urls(self, job_id: int, limit: int) -> list[str]:
        """The URLs admitted to a crawl's frontier (what a map job returns)."""
        f = crawl_frontier
        stmt = (
            sa.select(f.c.url)
            .where(f.c.job_id == job_id, f.c.state != "dropped", f.c.source != "redirect")
            .order_by(f.c.depth, f.c.id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return list((await conn.execute(stmt)).scalars().all())
