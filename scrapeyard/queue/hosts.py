"""Per-host politeness state shared by every process and host on the database.

A token bucket per host (``hosts``: tokens, refill rate, burst, last refill) from which
participants withdraw tokens a few at a time, and connection slots (``host_slots``)
that participants hold under a lease, each a fair share of the host's cap. Both are
read and written under the host row's lock, so concurrent participants never take
more than the host allows. Times come from the database's clock.

When crawls with different limits share a host, each refill uses the stricter of the
caller's rate and the rate stored by the previous caller, so the host never sees more
than the stricter limit while both run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard.queue import dialects
from scrapeyard.queue.base import UNFINISHED
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import crawl_frontier, host_slots, hosts, jobs, robots_files


@dataclass(frozen=True)
class HostInfo:
    """A host as an operator sees it: throttling, circuit, backlog."""

    host: str
    tokens: float
    rate: float
    burst: int
    throttled: int
    slots_held: int
    circuit: dict[str, Any] | None
    backlog: int
    oldest_waiting: datetime | None
    updated_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "tokens": round(self.tokens, 2),
            "requests_per_second": self.rate,
            "burst": self.burst,
            "throttled": self.throttled,
            "connections_held": self.slots_held,
            "circuit": self.circuit,
            "backlog": self.backlog,
            "oldest_waiting": self.oldest_waiting.isoformat() if self.oldest_waiting else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class HostStore:
    """Shared politeness for one participant (``holder``) of the crawls on a database."""

    def __init__(self, db: Database, holder: str, *, lease: float = 30.0) -> None:
        self.db = db
        self.holder = holder
        self.lease = lease
        self._dialect = db.engine.dialect.name

    async def _locked_host(
        self, tx: AsyncConnection, host: str, rate: float, burst: int
    ) -> sa.RowMapping:
        """The host's row (created if new), locked for this transaction, with ``now``."""
        await tx.execute(
            dialects.insert_ignoring_conflicts(self._dialect, hosts, ["host"]).values(
                host=host,
                tokens=float(burst),
                rate=rate,
                burst=burst,
                refilled_at=now(),
                throttled=0,
                updated_at=now(),
            )
        )
        stmt = sa.select(hosts, now().label("now")).where(hosts.c.host == host)
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        return (await tx.execute(stmt)).mappings().one()

    async def take_tokens(
        self, host: str, want: int, requests_per_second: float, burst: int
    ) -> tuple[int, float]:
        """Withdraw up to ``want`` tokens: (granted, seconds until the next one)."""
        async with self.db.write(durable=False) as tx:
            row = await self._locked_host(tx, host, requests_per_second, burst)
            if row["rate"] <= 0:
                # First rate-limited use (the row was made by a slot holder): a full bucket.
                rate, cap, tokens = requests_per_second, burst, float(burst)
            else:
                rate = min(requests_per_second, row["rate"])
                cap = min(burst, row["burst"])
                elapsed = max((row["now"] - row["refilled_at"]).total_seconds(), 0.0)
                tokens = min(float(cap), row["tokens"] + elapsed * rate)
            granted = int(min(want, math.floor(tokens)))
            tokens -= granted
            await tx.execute(
                sa.update(hosts)
                .where(hosts.c.host == host)
                .values(
                    tokens=tokens,
                    rate=requests_per_second,
                    burst=burst,
                    refilled_at=now(),
                    throttled=hosts.c.throttled + (0 if granted else 1),
                    updated_at=now(),
                )
            )
        wait = 0.0 if granted else (1.0 - tokens) / rate
        return granted, wait

    async def hold_slots(self, host: str, want: int, cap: int) -> int:
        """Hold up to ``want`` of ``cap`` connection slots: a fair share of what is free.

        The share is the cap divided among every holder that wants slots, this one
        included; a holder over its share (it came first) gets only its share back when
        it renews, so a newcomer is never starved for longer than one renewal.
        """
        async with self.db.write(durable=False) as tx:
            await self._locked_host(tx, host, 0.0, 0)
            others = (
                (
                    await tx.execute(
                        sa.select(host_slots.c.slots).where(
                            host_slots.c.host == host,
                            host_slots.c.holder != self.holder,
                            host_slots.c.expires_at > now(),
                        )
                    )
                )
                .scalars()
                .all()
            )
            free = cap - int(sum(others))
            fair = math.ceil(cap / (len(others) + 1))
            granted: int = max(0, min(want, free, fair))
            mine = sa.and_(host_slots.c.host == host, host_slots.c.holder == self.holder)
            await tx.execute(sa.delete(host_slots).where(mine))
            # A holder that wants slots keeps its row even when it got none: the others
            # count it when they work out their fair share, and give some back.
            if want:
                await tx.execute(
                    sa.insert(host_slots).values(
                        host=host,
                        holder=self.holder,
                        slots=granted,
                        expires_at=seconds_from_now(self.lease),
                    )
                )
        return granted

    async def drop_slots(self) -> None:
        async with self.db.write(durable=False) as tx:
            await tx.execute(sa.delete(host_slots).where(host_slots.c.holder == self.holder))

    async def record_circuits(self, circuits: Sequence[dict[str, Any]]) -> None:
        """Publish this participant's circuit breaker states (for operators)."""
        if not circuits:
            return
        async with self.db.write(durable=False) as tx:
            for circuit in circuits:
                await tx.execute(
                    sa.update(hosts)
                    .where(hosts.c.host == circuit["host"])
                    .values(circuit=circuit, updated_at=now())
                )


MAX_ROBOTS_TEXT = 64 * 1024
"""How much of a robots.txt file is kept for people to read."""


@dataclass(frozen=True)
class RobotsFile:
    """The robots.txt rules in force for one origin, as a worker last read them."""

    origin: str
    host: str
    status: str
    """``parsed``, ``allow_all`` (4xx) or ``disallow_all`` (5xx, unreachable)."""
    reason: str
    body: str | None
    sitemaps: list[str]
    fetched_at: datetime


async def record_robots(
    db: Database,
    origin: str,
    *,
    status: str,
    reason: str,
    body: str | None,
    sitemaps: Sequence[str],
) -> None:
    """Keep (or replace) the copy of ``origin``'s robots.txt rules."""
    host = origin.split("://", 1)[-1]
    values = {
        "host": host[:300],
        "status": status,
        "reason": reason[:500],
        "body": None if body is None else body[:MAX_ROBOTS_TEXT],
        "sitemaps": list(sitemaps)[:50],
        "fetched_at": now(),
    }
    stmt = (
        dialects.insert_for(db.engine.dialect.name, robots_files)
        .values(origin=origin[:300], **values)
        .on_conflict_do_update(index_elements=["origin"], set_=values)
    )
    async with db.write(durable=False) as tx:
        await tx.execute(stmt)


async def robots_for(db: Database, host_names: Sequence[str]) -> dict[str, list[RobotsFile]]:
    """The robots.txt copies of ``host_names`` (``host[:port]``), by host; an origin's
    http and https files are both listed."""
    if not host_names:
        return {}
    stmt = (
        sa.select(robots_files)
        .where(robots_files.c.host.in_(list(host_names)))
        .order_by(robots_files.c.origin)
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    found: dict[str, list[RobotsFile]] = {}
    for row in rows:
        found.setdefault(row["host"], []).append(RobotsFile(**row))
    return found


async def overview(db: Database, *, limit: int = 500) -> list[HostInfo]:
    """Every host crawls have touched: rate-limit state, circuit, and frontier backlog.

    The backlog counts the queued URLs of unfinished crawls only: a cancelled or
    finished crawl leaves its queued rows behind, and nothing will fetch them.
    """
    f = crawl_frontier
    backlog = (
        sa.select(
            f.c.host,
            sa.func.count().label("backlog"),
            sa.func.min(f.c.updated_at).label("oldest"),
        )
        .select_from(f.join(jobs, jobs.c.id == f.c.job_id))
        .where(f.c.state == "queued", jobs.c.status.in_(UNFINISHED))
        .group_by(f.c.host)
        .subquery()
    )
    held = (
        sa.select(host_slots.c.host, sa.func.sum(host_slots.c.slots).label("held"))
        .where(host_slots.c.expires_at > now())
        .group_by(host_slots.c.host)
        .subquery()
    )
    stmt = (
        sa.select(hosts, backlog.c.backlog, backlog.c.oldest, held.c.held)
        .select_from(
            hosts.outerjoin(backlog, backlog.c.host == hosts.c.host).outerjoin(
                held, held.c.host == hosts.c.host
            )
        )
        .order_by(hosts.c.updated_at.desc())
        .limit(limit)
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [
        HostInfo(
            host=row["host"],
            tokens=row["tokens"],
            rate=row["rate"],
            burst=row["burst"],
            throttled=row["throttled"],
            slots_held=int(row["held"] or 0),
            circuit=row["circuit"],
            backlog=int(row["backlog"] or 0),
            oldest_waiting=row["oldest"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
