"""Dataset storage: the catalogue of datasets, and reading their records and runs.

A dataset is a row of settings (``datasets``) and its records (``dataset_records``),
one per key, each stamped with the state its last run gave it: ``new``, ``changed``,
``unchanged`` or ``gone``. Runs write through ``dataset_runs.RunStore``; everything
here reads, configures, or removes records for retention.

Settings are plain JSON here (the ``scrapeyard.datasets`` package checks them); this
module only knows that changing the key of a dataset that holds records would orphan
every record, and refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import dialects, queries
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import dataset_records, dataset_rejects, dataset_runs, datasets

STATES = ("new", "changed", "unchanged", "gone")
CHANGES = ("new", "changed", "gone")
"""The states a run sets on what it found different."""
_DEFAULTS: dict[str, Any] = {
    "key": [],
    "schema": None,
    "processors": [],
    "types": {},
    "region": None,
    "retention": None,
}


@dataclass(frozen=True)
class RecordPage:
    """A page of records (in the order they were first stored) and the next cursor."""

    records: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class RecordFilter:
    """Which records to read: by state, and only those the run ``run_id`` stamped."""

    states: Sequence[str] = ()
    run_id: int | None = None


def _filtered(stmt: sa.Select[Any], dataset_id: int, where: RecordFilter) -> sa.Select[Any]:
    r = dataset_records
    stmt = stmt.where(r.c.dataset_id == dataset_id)
    if where.states:
        stmt = stmt.where(r.c.state.in_(list(where.states)))
    if where.run_id is not None:
        stmt = stmt.where(r.c.state_run_id == where.run_id)
    return stmt


class DatasetStore:
    """Every statement about datasets and their records, but a run's writes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._dialect = db.engine.dialect.name

    # -- the catalogue -----------------------------------------------------------------

    async def ensure(
        self,
        name: str,
        settings: Mapping[str, Any],
        *,
        defaults: Mapping[str, Any] | None = None,
        conn: AsyncConnection | None = None,
    ) -> dict[str, Any]:
        """The dataset ``name`` with ``settings`` applied, created with ``defaults`` (and
        then ``settings``) if it does not exist yet.

        ``DatasetConflict`` if ``settings`` change the key of a dataset that has records.
        """
        if conn is None:
            async with self.db.write() as tx:
                return await self.ensure(name, settings, defaults=defaults, conn=tx)
        created = {**_DEFAULTS, **(defaults or {}), **settings}
        await conn.execute(
            dialects.insert_ignoring_conflicts(self._dialect, datasets, ["name"]).values(
                name=name, created_at=now(), updated_at=now(), **created
            )
        )
        stmt = sa.select(datasets).where(datasets.c.name == name)
        if self._dialect == "postgresql":
            stmt = stmt.with_for_update()
        row = dict((await conn.execute(stmt)).mappings().one())
        changes = {k: v for k, v in settings.items() if row[k] != v}
        if "key" in changes and await self._has_records(conn, row["id"]):
            raise errors.DatasetConflict(
                f"dataset {name!r} is keyed by {row['key']}, not {list(settings['key'])}; "
                "a dataset that holds records keeps its key"
            )
        if changes:
            await conn.execute(
                sa.update(datasets)
                .where(datasets.c.id == row["id"])
                .values(updated_at=now(), **changes)
            )
            row.update(changes)
        return row

    async def _has_records(self, conn: AsyncConnection, dataset_id: int) -> bool:
        found = await conn.scalar(
            sa.select(dataset_records.c.id)
            .where(dataset_records.c.dataset_id == dataset_id)
            .limit(1)
        )
        return found is not None

    async def get(self, name: str) -> dict[str, Any]:
        """The dataset's row; ``DatasetNotFound`` if there is none of that name."""
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(datasets).where(datasets.c.name == name)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            raise errors.DatasetNotFound(name)
        return dict(row)

    async def list_datasets(self) -> list[dict[str, Any]]:
        """Every dataset with ``records`` (its record count), by name."""
        r = dataset_records
        count = (
            sa.select(sa.func.count())
            .where(r.c.dataset_id == datasets.c.id)
            .scalar_subquery()
            .label("records")
        )
        async with self.db.read() as conn:
            rows = (
                await conn.execute(sa.select(datasets, count).order_by(datasets.c.name))
            ).mappings()
            return [dict(row) for row in rows]

    async def delete(self, name: str) -> None:
        """Remove the dataset with its records, runs and rejects."""
        async with self.db.write() as tx:
            result = await tx.execute(sa.delete(datasets).where(datasets.c.name == name))
        if not result.rowcount:
            raise errors.DatasetNotFound(name)

    async def counts(self, dataset_id: int) -> dict[str, int]:
        """Records by state, every state present (zero or more)."""
        r = dataset_records
        stmt = (
            sa.select(r.c.state, sa.func.count().label("n"))
            .where(r.c.dataset_id == dataset_id)
            .group_by(r.c.state)
        )
        totals = dict.fromkeys(STATES, 0)
        async with self.db.read() as conn:
            for row in (await conn.execute(stmt)).mappings():
                totals[row["state"]] = row["n"]
        return totals

    # -- runs --------------------------------------------------------------------------

    async def runs(self, dataset_id: int, limit: int = 20) -> list[dict[str, Any]]:
        """The dataset's latest runs, newest first."""
        stmt = (
            sa.select(dataset_runs)
            .where(dataset_runs.c.dataset_id == dataset_id)
            .order_by(dataset_runs.c.id.desc())
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    async def last_run(self, dataset_id: int) -> dict[str, Any] | None:
        """The dataset's latest run that succeeded, if any."""
        stmt = (
            sa.select(dataset_runs)
            .where(dataset_runs.c.dataset_id == dataset_id, dataset_runs.c.status == "succeeded")
            .order_by(dataset_runs.c.id.desc())
            .limit(1)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().one_or_none()
        return dict(row) if row is not None else None

    async def rejects(
        self, dataset_id: int, run_id: int, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of a run's rejected records (line, reason, data) and the next cursor;
        nothing for a run of another dataset."""
        ours = sa.select(dataset_runs.c.id).where(
            dataset_runs.c.id == run_id, dataset_runs.c.dataset_id == dataset_id
        )
        stmt = (
            sa.select(dataset_rejects)
            .where(dataset_rejects.c.run_id.in_(ours.scalar_subquery()))
            .order_by(dataset_rejects.c.id)
            .limit(limit + 1)
        )
        if cursor is not None:
            stmt = stmt.where(dataset_rejects.c.id > queries.decode_cursor(cursor))
        async with self.db.read() as conn:
            rows = [dict(row) for row in (await conn.execute(stmt)).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, queries.encode_cursor(rows[-1]["id"]) if more and rows else None

    # -- records -----------------------------------------------------------------------

    async def records(
        self,
        dataset_id: int,
        where: RecordFilter | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RecordPage:
        """A page of the dataset's records."""
        after = queries.decode_cursor(cursor) if cursor is not None else 0
        rows = await self.records_after(dataset_id, after, limit + 1, where)
        more = len(rows) > limit
        rows = rows[:limit]
        return RecordPage(rows, queries.encode_cursor(rows[-1]["id"]) if more and rows else None)

    async def records_after(
        self,
        dataset_id: int,
        after_id: int,
        limit: int,
        where: RecordFilter | None = None,
    ) -> list[dict[str, Any]]:
        """Records after record ``after_id``: for exports in constant memory."""
        r = dataset_records
        stmt = _filtered(
            sa.select(r).where(r.c.id > after_id).order_by(r.c.id).limit(limit),
            dataset_id,
            where or RecordFilter(),
        )
        async with self.db.read() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    # -- retention ---------------------------------------------------------------------

    async def expired(
        self, dataset_id: int, retention: float, after_id: int, limit: int
    ) -> list[dict[str, Any]]:
        """Records not seen for ``retention`` seconds, after record ``after_id``."""
        r = dataset_records
        stmt = (
            sa.select(r)
            .where(
                r.c.dataset_id == dataset_id,
                r.c.last_seen_at < seconds_from_now(-retention),
                r.c.id > after_id,
            )
            .order_by(r.c.id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    async def remove_expired(self, dataset_id: int, ids: Sequence[int], retention: float) -> int:
        """Delete the records among ``ids`` that are still expired (one seen again
        meanwhile stays); how many were deleted."""
        r = dataset_records
        async with self.db.write() as tx:
            result = await tx.execute(
                sa.delete(r).where(
                    r.c.dataset_id == dataset_id,
                    r.c.id.in_(list(ids)),
                    r.c.last_seen_at < seconds_from_now(-retention),
                )
            )
        return int(result.rowcount or 0)
