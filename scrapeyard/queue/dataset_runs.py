"""A run's writes into a dataset: staged in batches, then swapped in all at once.

A run (a crawl writing into a dataset, an import) begins with ``begin``, stores its
prepared records with ``stage`` (in as many transactions as it likes: staged rows are
invisible to readers) and its rejects with ``reject``, and ends with ``commit``, one
transaction that:

1. counts what the run brings, comparing each staged record with the stored one by
   content hash: ``new`` (no record with that key, or one stamped ``gone``),
   ``changed`` (a different hash) or ``unchanged``;
2. upserts every staged record, stamping it with that state and this run;
3. for a *full* run, stamps ``gone`` every record the run did not see; for an import,
   deletes instead the records of the dataset's earlier imports that this one did not
   bring, so that a re-import replaces the previous one;
4. drops the staging rows and records the run's counts.

Readers see the dataset before the run or after it, never in between; a run that
fails (``fail``) leaves nothing behind. ``commit`` can join the transaction that
completes the job, so the dataset changes exactly when the job succeeds. Two runs on
one dataset commit one after the other (the dataset's row is locked; SQLite has one
writer at a time anyway).

Within a run the first record staged for a key wins; later ones count as duplicates.
Staging only appends rows (checking a unique key for each of a million rows would
cost several times more); duplicates are dropped when the run commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now
from scrapeyard.queue.tables import (
    dataset_records,
    dataset_rejects,
    dataset_runs,
    dataset_staging,
    datasets,
)

KEEP_RUNS = 50
"""Finished runs kept per dataset (with their rejects); older ones are forgotten."""
MAX_REJECTS_PER_RUN = 10_000
"""Rejects stored per run; the run counts the rest without keeping them."""


@dataclass(frozen=True)
class Run:
    """A run in progress: what ``begin`` returns, what the other calls take."""

    id: int
    dataset_id: int
    full: bool
    replaces_import: bool
    """An import: records of earlier imports it does not bring are deleted."""


@dataclass(frozen=True)
class Summary:
    """What a committed run did."""

    run_id: int
    received: int
    new: int
    changed: int
    unchanged: int
    gone: int
    rejected: int
    duplicates: int

    def to_json(self) -> dict[str, int]:
        return dict(self.__dict__)


_COUNTS = ("received", "new", "changed", "unchanged", "gone", "rejected", "duplicates")


class RunStore:
    """Every statement a run makes (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dialect = db.engine.dialect.name
        self._stage = sa.insert(dataset_staging)

    async def begin(self, dataset_id: int, *, job_id: int | None, source: str, full: bool) -> Run:
        """Start a run. An unfinished run of the same job (an earlier attempt that
        died) is discarded with everything it staged."""
        async with self.db.write() as tx:
            if job_id is not None:
                await tx.execute(
                    sa.delete(dataset_runs).where(
                        dataset_runs.c.job_id == job_id, dataset_runs.c.status == "running"
                    )
                )
            run_id = await tx.scalar(
                sa.insert(dataset_runs)
                .values(
                    dataset_id=dataset_id,
                    job_id=job_id,
                    source=source,
                    full=full,
                    status="running",
                    received=0,
                    new=0,
                    changed=0,
                    unchanged=0,
                    gone=0,
                    rejected=0,
                    duplicates=0,
                    started_at=now(),
                )
                .returning(dataset_runs.c.id)
            )
        assert run_id is not None
        return Run(int(run_id), dataset_id, full, replaces_import=source == "import")

    async def committed(self, job_id: int, dataset_id: int) -> Summary | None:
        """The summary of the run job ``job_id`` already committed into the dataset, if
        any: a job that runs again (its completion was lost) must not run twice."""
        stmt = (
            sa.select(dataset_runs)
            .where(
                dataset_runs.c.job_id == job_id,
                dataset_runs.c.dataset_id == dataset_id,
                dataset_runs.c.status == "succeeded",
            )
            .order_by(dataset_runs.c.id.desc())
            .limit(1)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().one_or_none()
        if row is None:
            return None
        return Summary(run_id=row["id"], **{name: row[name] for name in _COUNTS})

    async def stage(self, run: Run, records: Sequence[Mapping[str, Any]]) -> None:
        """Store prepared records (``key_hash``, ``key``, ``data``, ``content_hash``)."""
        if not records:
            return
        async with self.db.write() as tx:
            await tx.execute(self._stage, [{**record, "run_id": run.id} for record in records])

    async def reject(self, run: Run, rejects: Sequence[Mapping[str, Any]]) -> None:
        """Store rejected records (``line``, ``reason``, ``data``)."""
        if not rejects:
            return
        async with self.db.write() as tx:
            await tx.execute(
                sa.insert(dataset_rejects), [{**item, "run_id": run.id} for item in rejects]
            )

    async def fail(self, run: Run, error: str) -> None:
        """End the run as failed; whatever it staged or rejected is dropped."""
        async with self.db.write() as tx:
            await tx.execute(sa.delete(dataset_staging).where(dataset_staging.c.run_id == run.id))
            await tx.execute(sa.delete(dataset_rejects).where(dataset_rejects.c.run_id == run.id))
            await tx.execute(
                sa.update(dataset_runs)
                .where(dataset_runs.c.id == run.id, dataset_runs.c.status == "running")
                .values(status="failed", error=error[:2000], finished_at=now())
            )

    async def discard_stale(self, older_than: float) -> int:
        """Drop runs left unfinished for ``older_than`` seconds (their job died for good
        before it could fail them), with what they staged; how many."""
        async with self.db.write() as tx:
            result = await tx.execute(
                sa.delete(dataset_runs).where(
                    dataset_runs.c.status == "running",
                    dataset_runs.c.started_at < dialects.seconds_from_now(-older_than),
                )
            )
        return int(result.rowcount or 0)

    async def ready_to_commit(self) -> None:
        """Let PostgreSQL plan the commit well: staging fills and empties faster than
        autovacuum samples it, and planned with stale statistics the commit's joins can
        take quadratic time. (In a transaction of its own: ANALYZE holds a lock until the
        transaction ends, which would make commits on other datasets wait.)"""
        if self._dialect == "postgresql":
            async with self.db.write() as tx:
                await tx.execute(sa.text("ANALYZE dataset_staging"))

    async def commit(
        self, run: Run, *, received: int, rejected: int, conn: AsyncConnection | None = None
    ) -> Summary:
        """Swap the staged records in (see the module docstring), in ``conn`` if given
        (then call ``ready_to_commit`` first)."""
        if conn is None:
            await self.ready_to_commit()
            async with self.db.write() as tx:
                return await self.commit(run, received=received, rejected=rejected, conn=tx)
        await self._lock_dataset(conn, run.dataset_id)
        claimed = await conn.execute(
            sa.update(dataset_runs)
            .where(dataset_runs.c.id == run.id, dataset_runs.c.status == "running")
            .values(status="succeeded", finished_at=now())
        )
        if not claimed.rowcount:
            # Another attempt of the same job began since (this one lost its lease) and
            # discarded this run: committing it would settle records it never staged.
            raise errors.DatasetConflict(f"run {run.id} was superseded by a later attempt")
        counts = await self._compare(conn, run)
        await conn.execute(self._upsert(run))
        gone = await self._settle_unseen(conn, run)
        await conn.execute(sa.delete(dataset_staging).where(dataset_staging.c.run_id == run.id))
        staged = sum(counts.values())
        summary = Summary(
            run_id=run.id,
            received=received,
            new=counts.get("new", 0),
            changed=counts.get("changed", 0),
            unchanged=counts.get("unchanged", 0),
            gone=gone,
            rejected=rejected,
            duplicates=max(received - rejected - staged, 0),
        )
        values = summary.to_json()
        del values["run_id"]
        await conn.execute(
            sa.update(dataset_runs).where(dataset_runs.c.id == run.id).values(**values)
        )
        await conn.execute(
            sa.update(datasets).where(datasets.c.id == run.dataset_id).values(updated_at=now())
        )
        await self._forget_old_runs(conn, run.dataset_id)
        return summary

    async def _lock_dataset(self, conn: AsyncConnection, dataset_id: int) -> None:
        stmt = sa.select(datasets.c.id).where(datasets.c.id == dataset_id)
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        await conn.execute(stmt)

    def _staged(self, run: Run) -> sa.Join:
        """The staged rows that count, joined to their ids: the first one staged for each
        key. (A join, not ``id IN (...)``, which PostgreSQL may plan as a subquery run
        for every row.)"""
        s = dataset_staging
        firsts = (
            sa.select(sa.func.min(s.c.id).label("id"))
            .where(s.c.run_id == run.id)
            .group_by(s.c.key_hash)
            .subquery("firsts")
        )
        return s.join(firsts, firsts.c.id == s.c.id)

    async def _compare(self, conn: AsyncConnection, run: Run) -> dict[str, int]:
        s, r = dataset_staging, dataset_records
        state = sa.case(
            (sa.or_(r.c.id.is_(None), r.c.state == "gone"), "new"),
            (r.c.content_hash == s.c.content_hash, "unchanged"),
            else_="changed",
        ).label("state")
        joined = self._staged(run).outerjoin(
            r, sa.and_(r.c.dataset_id == run.dataset_id, r.c.key_hash == s.c.key_hash)
        )
        stmt = (
            sa.select(state, sa.func.count().label("n"))
            .select_from(joined)
            .where(s.c.run_id == run.id)
            .group_by(state)
        )
        return {row.state: int(row.n) for row in await conn.execute(stmt)}

    def _upsert(self, run: Run) -> sa.Insert:
        s, r = dataset_staging, dataset_records
        run_id = sa.cast(sa.literal(run.id), sa.BigInteger)
        import_id = run_id if run.replaces_import else sa.cast(sa.null(), sa.BigInteger)
        source = sa.select(
            sa.cast(sa.literal(run.dataset_id), sa.BigInteger),
            s.c.key_hash,
            s.c.key,
            s.c.data,
            s.c.content_hash,
            sa.cast(sa.literal("new"), sa.String),
            import_id,
            run_id,
            run_id,
            now(),
            now(),
        )
        # In key order, the unique index on records is written sequentially.
        source = source.select_from(self._staged(run)).where(s.c.run_id == run.id)
        source = source.order_by(s.c.key_hash)
        columns = [
            "dataset_id",
            "key_hash",
            "key",
            "data",
            "content_hash",
            "state",
            "import_id",
            "seen_run_id",
            "state_run_id",
            "first_seen_at",
            "last_seen_at",
        ]
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        insert = dialect_insert(r).from_select(columns, source)
        excluded = insert.excluded
        return insert.on_conflict_do_update(
            index_elements=["dataset_id", "key_hash"],
            set_={
                "key": excluded.key,
                "data": excluded.data,
                "state": sa.case(
                    (r.c.state == "gone", "new"),
                    (r.c.content_hash == excluded.content_hash, "unchanged"),
                    else_="changed",
                ),
                "content_hash": excluded.content_hash,
                "import_id": excluded.import_id,
                "seen_run_id": excluded.seen_run_id,
                "state_run_id": excluded.state_run_id,
                "last_seen_at": excluded.last_seen_at,
            },
        )

    async def _settle_unseen(self, conn: AsyncConnection, run: Run) -> int:
        """Records this run did not see: deleted (an import replacing an earlier one),
        stamped gone (a full run), or left alone; how many."""
        r = dataset_records
        unseen = sa.and_(r.c.dataset_id == run.dataset_id, r.c.seen_run_id != run.id)
        if run.replaces_import:
            result = await conn.execute(sa.delete(r).where(unseen, r.c.import_id.is_not(None)))
        elif run.full:
            result = await conn.execute(
                sa.update(r)
                .where(unseen, r.c.state != "gone")
                .values(state="gone", state_run_id=run.id)
            )
        else:
            return 0
        return int(result.rowcount or 0)

    async def _forget_old_runs(self, conn: AsyncConnection, dataset_id: int) -> None:
        runs = dataset_runs
        keep = (
            sa.select(runs.c.id)
            .where(runs.c.dataset_id == dataset_id, runs.c.status != "running")
            .order_by(runs.c.id.desc())
            .limit(KEEP_RUNS)
            .scalar_subquery()
        )
        await conn.execute(
            sa.delete(runs).where(
                runs.c.dataset_id == dataset_id,
                runs.c.status != "running",
                runs.c.id.not_in(keep),
            )
        )
