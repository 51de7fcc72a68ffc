"""Worker heartbeat rows: which worker processes exist, where, and how they are doing.

Each worker process keeps one row up to date; anyone with access to the database (the
CLI, the API, a supervisor on another host) can see every worker and spot the stale
ones. Rows carry no authority over jobs: leases on the jobs themselves do that.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import workers


class WorkerState(enum.StrEnum):
    """A worker process's lifecycle."""

    STARTING = "starting"
    """Connected, not yet claiming."""
    RUNNING = "running"
    """Claiming and running jobs."""
    DRAINING = "draining"
    """Claiming nothing more; finishing its running jobs (shutdown or memory recycle)."""
    STOPPED = "stopped"
    """Exited cleanly."""


@dataclass(frozen=True)
class WorkerInfo:
    """One worker process as its heartbeat row describes it."""

    id: str
    supervisor: str | None
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    state: WorkerState
    started_at: datetime
    last_seen_at: datetime
    jobs_running: int
    jobs_succeeded: int
    jobs_failed: int
    rss_bytes: int
    version: str
    stale: bool
    """No heartbeat for longer than the threshold given to ``list``, while not stopped."""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> WorkerInfo:
        state = WorkerState(row["state"])
        return cls(
            id=row["id"],
            supervisor=row["supervisor"],
            host=row["host"],
            pid=row["pid"],
            queues=list(row["queues"]),
            concurrency=row["concurrency"],
            state=state,
            started_at=row["started_at"],
            last_seen_at=row["last_seen_at"],
            jobs_running=row["jobs_running"],
            jobs_succeeded=row["jobs_succeeded"],
            jobs_failed=row["jobs_failed"],
            rss_bytes=row["rss_bytes"],
            version=row["version"],
            stale=bool(row["stale"]) and state is not WorkerState.STOPPED,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "supervisor": self.supervisor,
            "host": self.host,
            "pid": self.pid,
            "queues": self.queues,
            "concurrency": self.concurrency,
            "state": str(self.state),
            "started_at": self.started_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "jobs_running": self.jobs_running,
            "jobs_succeeded": self.jobs_succeeded,
            "jobs_failed": self.jobs_failed,
            "rss_bytes": self.rss_bytes,
            "version": self.version,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class Heartbeat:
    """What a worker reports on each beat."""

    state: WorkerState
    jobs_running: int
    jobs_succeeded: int
    jobs_failed: int
    rss_bytes: int


class WorkerRegistry:
    """Reads and writes worker heartbeat rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _execute(self, stmt: sa.Executable) -> None:
        async with self.db.write() as conn:
            await conn.execute(stmt)

    async def register(
        self,
        worker_id: str,
        *,
        supervisor: str | None,
        host: str,
        pid: int,
        queues: Sequence[str],
        concurrency: int,
        version: str,
    ) -> None:
        await self._execute(
            sa.insert(workers).values(
                id=worker_id,
                supervisor=supervisor,
                host=host,
                pid=pid,
                queues=list(queues),
                concurrency=concurrency,
                state=str(WorkerState.STARTING),
                started_at=now(),
                last_seen_at=now(),
                jobs_running=0,
                jobs_succeeded=0,
                jobs_failed=0,
                rss_bytes=0,
                version=version,
            )
        )

    async def beat(self, worker_id: str, beat: Heartbeat) -> None:
        await self._execute(
            sa.update(workers)
            .where(workers.c.id == worker_id)
            .values(
                state=str(beat.state),
                last_seen_at=now(),
                jobs_running=beat.jobs_running,
                jobs_succeeded=beat.jobs_succeeded,
                jobs_failed=beat.jobs_failed,
                rss_bytes=beat.rss_bytes,
            )
        )

    async def list(
        self, *, stale_after: float = 30.0, supervisor: str | None = None
    ) -> list[WorkerInfo]:
        """Every known worker, newest first; ``stale`` marks missed heartbeats."""
        stale = (workers.c.last_seen_at < seconds_from_now(-stale_after)).label("stale")
        stmt = sa.select(workers, stale).order_by(workers.c.started_at.desc())
        if supervisor is not None:
            stmt = stmt.where(workers.c.supervisor == supervisor)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [WorkerInfo.from_row(row) for row in rows]

    async def forget(self, *, older_than: float) -> int:
        """Delete rows of workers stopped, or silent, for more than ``older_than`` seconds."""
        stmt = (
            sa.delete(workers)
            .where(workers.c.last_seen_at < seconds_from_now(-older_than))
            .returning(workers.c.id)
        )
        async with self.db.write() as conn:
            return len((await conn.execute(stmt)).all())
