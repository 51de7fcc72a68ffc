"""What happened over a period, for the daily and weekly reports: the SQL side.

Jobs finished (by outcome and kind), pages fetched, the most common reasons for
failure, hosts that throttled or rate-limited crawls, and datasets that changed. The
window ends at the database's clock, like every time in the store. Finished jobs are
purged after ``queue.retention`` (seven days by default), so a weekly report sees what
that keeps.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import (
    crawl_pages,
    dataset_runs,
    datasets,
    hosts,
    jobs,
    notices,
)

TOP = 5
"""Reasons and hosts listed at most, most frequent first."""
SCAN_LIMIT = 20_000
"""Failures read at most to rank their reasons (a report, not an audit)."""
RATE_LIMIT_NOTICE = "rate_limit"
"""The notice kind of rate-limit alerts (``notify.alerts``)."""


@dataclass(frozen=True)
class KindLine:
    kind: str
    succeeded: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class HostLine:
    host: str
    throttled: int
    """Times the host's rate limit made a crawl wait (since the host was first seen)."""
    circuit: str | None
    """The circuit breaker's state when a crawl last reported it."""
    alerts: int
    """Rate-limit alerts sent about it in the period."""


@dataclass(frozen=True)
class DatasetLine:
    name: str
    runs: int
    new: int
    changed: int
    gone: int


@dataclass(frozen=True)
class Figures:
    """Everything a report says, for one period."""

    since: datetime
    until: datetime
    jobs_created: int
    finished: Mapping[str, int]
    """Jobs finished in the period by outcome: succeeded, failed, cancelled."""
    by_kind: list[KindLine]
    pages_fetched: int
    pages_failed: int
    bytes_fetched: int
    job_errors: list[tuple[str, int]]
    page_errors: list[tuple[str, int]]
    hosts: list[HostLine]
    datasets: list[DatasetLine] = field(default_factory=list)


def _top(reasons: Iterable[str]) -> list[tuple[str, int]]:
    return collections.Counter(reasons).most_common(TOP)


def job_reason(error: Mapping[str, Any] | None) -> str:
    """A failed job's reason as a report lists it: the type and the message's first line."""
    if not error:
        return "unknown"
    kind = str(error.get("type") or "Error")
    message = str(error.get("message") or "").strip().splitlines()
    first = message[0][:120] if message else ""
    return f"{kind}: {first}" if first else kind


def page_reason(error: Mapping[str, Any] | None, status: int | None) -> str:
    """A failed page's reason, without its URL so that like failures count together."""
    if error and error.get("type") not in (None, "HTTPError"):
        return str(error["type"])
    return f"HTTP {status}" if status is not None else "unknown"


async def figures(db: Database, seconds: float) -> Figures:
    """The figures of the ``seconds`` up to now (a day: 86400)."""
    since = seconds_from_now(-seconds)
    async with db.read() as conn:
        bounds = (await conn.execute(sa.select(since.label("since"), now().label("until")))).one()
        window_start = bounds.since
        created = await conn.scalar(
            sa.select(sa.func.count()).select_from(jobs).where(jobs.c.created_at >= window_start)
        )
        finished_rows = (
            await conn.execute(
                sa.select(jobs.c.kind, jobs.c.status, sa.func.count())
                .where(
                    jobs.c.finished_at >= window_start,
                    jobs.c.status.in_(("succeeded", "failed", "cancelled")),
                )
                .group_by(jobs.c.kind, jobs.c.status)
            )
        ).all()
        errors = (
            await conn.execute(
                sa.select(jobs.c.error)
                .where(jobs.c.status == "failed", jobs.c.finished_at >= window_start)
                .order_by(jobs.c.id.desc())
                .limit(SCAN_LIMIT)
            )
        ).scalars()
        job_errors = _top(job_reason(error) for error in errors)
        pages = (
            await conn.execute(
                sa.select(
                    crawl_pages.c.ok,
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(crawl_pages.c.bytes), 0),
                )
                .where(crawl_pages.c.fetched_at >= window_start)
                .group_by(crawl_pages.c.ok)
            )
        ).all()
        page_failures = (
            await conn.execute(
                sa.select(crawl_pages.c.error, crawl_pages.c.status)
                .where(crawl_pages.c.fetched_at >= window_start, crawl_pages.c.ok.is_(False))
                .order_by(crawl_pages.c.id.desc())
                .limit(SCAN_LIMIT)
            )
        ).all()
        page_errors = _top(page_reason(row.error, row.status) for row in page_failures)
        host_lines = await _hosts(conn, window_start)
        dataset_lines = await _datasets(conn, window_start)
    finished: dict[str, int] = {"succeeded": 0, "failed": 0, "cancelled": 0}
    kinds: dict[str, dict[str, int]] = {}
    for kind, status, count in finished_rows:
        finished[status] += count
        kinds.setdefault(kind, {"succeeded": 0, "failed": 0, "cancelled": 0})[status] = count
    ok = {bool(row[0]): (int(row[1]), int(row[2])) for row in pages}
    return Figures(
        since=bounds.since,
        until=bounds.until,
        jobs_created=int(created or 0),
        finished=finished,
        by_kind=[
            KindLine(kind, c["succeeded"], c["failed"], c["cancelled"])
            for kind, c in sorted(kinds.items(), key=lambda item: -sum(item[1].values()))
        ],
        pages_fetched=ok.get(True, (0, 0))[0],
        pages_failed=ok.get(False, (0, 0))[0],
        bytes_fetched=sum(bytes_ for _, bytes_ in ok.values()),
        job_errors=job_errors,
        page_errors=page_errors,
        hosts=host_lines,
        datasets=dataset_lines,
    )


async def _hosts(conn: AsyncConnection, window_start: datetime) -> list[HostLine]:
    """Hosts that made crawls wait or answered with errors in the period."""
    alerts: dict[str, int] = dict(
        (
            await conn.execute(
                sa.select(notices.c.key, sa.func.count())
                .where(notices.c.kind == RATE_LIMIT_NOTICE, notices.c.created_at >= window_start)
                .group_by(notices.c.key)
            )
        ).all()
    )
    rows = (
        await conn.execute(
            sa.select(hosts.c.host, hosts.c.throttled, hosts.c.circuit).where(
                hosts.c.updated_at >= window_start,
                sa.or_(hosts.c.throttled > 0, hosts.c.circuit.is_not(None)),
            )
        )
    ).all()
    lines = {
        row.host: HostLine(
            row.host,
            int(row.throttled),
            (row.circuit or {}).get("state") if isinstance(row.circuit, dict) else None,
            int(alerts.get(row.host, 0)),
        )
        for row in rows
    }
    for host, count in alerts.items():
        if host not in lines:
            lines[host] = HostLine(host, 0, None, int(count))
    interesting = [
        line for line in lines.values() if line.alerts or line.throttled or line.circuit != "closed"
    ]
    interesting.sort(key=lambda line: (-line.alerts, -line.throttled, line.host))
    return interesting[: TOP * 2]


async def _datasets(conn: AsyncConnection, window_start: datetime) -> list[DatasetLine]:
    """Datasets whose runs finished in the period with something new, changed or gone."""
    runs = dataset_runs
    rows = (
        await conn.execute(
            sa.select(
                datasets.c.name,
                sa.func.count(),
                sa.func.sum(runs.c.new),
                sa.func.sum(runs.c.changed),
                sa.func.sum(runs.c.gone),
            )
            .select_from(runs.join(datasets, datasets.c.id == runs.c.dataset_id))
            .where(runs.c.status == "succeeded", runs.c.finished_at >= window_start)
            .group_by(datasets.c.name)
            .order_by(datasets.c.name)
        )
    ).all()
    return [
        DatasetLine(name, int(count), int(new or 0), int(changed or 0), int(gone or 0))
        for name, count, new, changed, gone in rows
        if (new or 0) + (changed or 0) + (gone or 0) > 0
    ]
