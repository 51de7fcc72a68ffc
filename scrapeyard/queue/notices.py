"""Notices: every e-mail scrapeyard composes, and the key that keeps it from going twice.

A notice is written before it is sent, under a unique ``(kind, key, period)``: a
rate-limit alert is ``("rate_limit", host, "2026-11-25T14")``, so however many worker
processes on however many hosts notice the same host in the same hour, one insert wins
and one message goes out. The sending job then marks it sent, or records the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard.queue import dialects
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import notices

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Notice:
    """An e-mail as composed, and whether it went out."""

    id: int
    kind: str
    key: str
    period: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    created_at: datetime
    sent_at: datetime | None
    error: str | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Notice:
        return cls(
            id=row["id"],
            kind=row["kind"],
            key=row["key"],
            period=row["period"],
            recipients=tuple(row["recipients"]),
            subject=row["subject"],
            text=row["text"],
            html=row["html"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
            error=row["error"],
        )


@dataclass(frozen=True)
class Draft:
    """A notice to write: what identifies it, and the message."""

    kind: str
    key: str
    period: str
    recipients: Sequence[str]
    subject: str
    text: str
    html: str | None = None


class NoticeStore:
    """Every statement about notices, on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = dialects.insert_ignoring_conflicts(
            db.engine.dialect.name, notices, ["kind", "key", "period"]
        ).returning(notices.c.id)

    async def clock(self) -> datetime:
        """The database's time: every host agrees on which hour an alert falls in."""
        async with self.db.read() as conn:
            value: datetime | None = await conn.scalar(sa.select(now()))
        assert value is not None
        return value

    async def add(self, draft: Draft, *, conn: AsyncConnection | None = None) -> int | None:
        """Write ``draft``; its id, or ``None`` if a notice with its key exists already."""
        stmt = self._insert.values(
            kind=draft.kind,
            key=draft.key[:255],
            period=draft.period,
            recipients=list(draft.recipients),
            subject=draft.subject,
            text=draft.text,
            html=draft.html,
            created_at=now(),
        )
        if conn is not None:
            found = (await conn.execute(stmt)).scalar_one_or_none()
        else:
            async with self.db.write() as tx:
                found = (await tx.execute(stmt)).scalar_one_or_none()
        return int(found) if found is not None else None

    async def get(self, notice_id: int) -> Notice | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(notices).where(notices.c.id == notice_id)))
                .mappings()
                .one_or_none()
            )
        return Notice.from_row(row) if row is not None else None

    async def mark_sent(self, notice_id: int) -> None:
        async with self.db.write() as tx:
            await tx.execute(
                sa.update(notices)
                .where(notices.c.id == notice_id)
                .values(sent_at=now(), error=None)
            )

    async def mark_failed(self, notice_id: int, error: str) -> None:
        async with self.db.write() as tx:
            await tx.execute(
                sa.update(notices)
                .where(notices.c.id == notice_id)
                .values(error=error[:MAX_ERROR_CHARS])
            )

    async def recent(self, *, kind: str | None = None, limit: int = 100) -> list[Notice]:
        """The newest notices first, optionally of one kind."""
        stmt = sa.select(notices).order_by(notices.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(notices.c.kind == kind)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Notice.from_row(row) for row in rows]

    async def purge(self, older_than: float) -> int:
        """Forget notices written more than ``older_than`` seconds ago."""
        async with self.db.write() as tx:
            result = await tx.execute(
                sa.delete(notices)
                .where(notices.c.created_at < seconds_from_now(-older_than))
                .returning(notices.c.id)
            )
            return len(result.all())
