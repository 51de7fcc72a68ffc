"""What differs between SQLite and PostgreSQL, and nothing else.

Three things do: how a point in time is stored (``timestamptz`` on PostgreSQL, Unix
seconds as a float on SQLite, which has no time type), how the database's clock is read
(``now()``; SQLite's ``julianday``), and the claim statement (PostgreSQL locks rows with
``FOR UPDATE SKIP LOCKED`` so concurrent claimers skip each other's rows; SQLite runs one
writer at a time, so a plain ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)`` is atomic).

Times come from the database's clock, never the caller's, so leases mean the same thing
on every host that shares a PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


class Timestamp(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, Unix seconds on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if dialect.name == "sqlite":
            return value.timestamp()
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        assert isinstance(value, datetime)
        return value.astimezone(UTC)


class now(FunctionElement[datetime]):
    """The database's current time."""

    type = Timestamp()
    inherit_cache = True


class seconds_from_now(FunctionElement[datetime]):
    """The database's current time plus a number of seconds."""

    type = Timestamp()
    inherit_cache = True

    def __init__(self, seconds: Any) -> None:
        super().__init__(sa.cast(seconds, sa.Float()))


@compiles(now, "postgresql")
def _now_postgresql(element: now, compiler: SQLCompiler, **kw: Any) -> str:
    return "now()"


@compiles(now, "sqlite")
def _now_sqlite(element: now, compiler: SQLCompiler, **kw: Any) -> str:
    return _SQLITE_NOW


@compiles(seconds_from_now, "postgresql")
def _seconds_from_now_postgresql(
    element: seconds_from_now, compiler: SQLCompiler, **kw: Any
) -> str:
    return f"(now() + ({compiler.process(element.clauses, **kw)}) * interval '1 second')"


@compiles(seconds_from_now, "sqlite")
def _seconds_from_now_sqlite(element: seconds_from_now, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({_SQLITE_NOW} + ({compiler.process(element.clauses, **kw)}))"


class seconds_between(FunctionElement[float]):
    """``end - start`` in seconds, for two timestamp columns."""

    type = sa.Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({end} - {start})"  # SQLite stores times as Unix seconds


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


def claim_rows(
    dialect_name: str, table: sa.Table, picked: sa.Select[Any], values: dict[str, Any]
) -> sa.Update:
    """``UPDATE`` the rows whose ids ``picked`` selects (ordered, limited) to ``values``.

    The claim: atomic on both backends, and concurrent claimers never take the same row.
    On PostgreSQL ``picked`` locks with ``FOR UPDATE SKIP LOCKED`` inside a CTE (a CTE is
    evaluated once, so the LIMIT and the locks apply to one set); SQLite has one writer
    at a time, so ``WHERE id IN (SELECT ... LIMIT n)`` is enough.
    """
    if dialect_name == "postgresql":
        locked = picked.with_for_update(skip_locked=True).cte("picked")
        return sa.update(table).where(table.c.id == locked.c.id).values(**values)
    return sa.update(table).where(table.c.id.in_(picked.scalar_subquery())).values(**values)


def claim_statement(
    dialect_name: str,
    jobs: sa.Table,
    queues: sa.Table,
    *,
    queue_names: Sequence[str],
    limit: int,
    values: dict[str, Any],
) -> sa.Update:
    """``UPDATE`` up to ``limit`` ready jobs to ``values`` and return them, atomically.

    Ready means: status scheduled or queued, ``run_at`` passed, in one of
    ``queue_names``, and that queue not paused. Highest priority first, then earliest
    ``run_at``, then insertion order.
    """
    ready = (
        sa.select(jobs.c.id)
        .where(
            jobs.c.status.in_(("queued", "scheduled")),
            jobs.c.queue.in_(list(queue_names)),
            jobs.c.run_at <= now(),
            ~sa.exists().where(queues.c.name == jobs.c.queue, queues.c.paused.is_(True)),
        )
        .order_by(jobs.c.priority.desc(), jobs.c.run_at, jobs.c.id)
        .limit(limit)
    )
    return claim_rows(dialect_name, jobs, ready, values).returning(*jobs.c)


def insert_ignoring_conflicts(
    dialect_name: str, table: sa.Table, index_elements: Sequence[str]
) -> sa.Insert:
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING``."""
    return insert_for(dialect_name, table).on_conflict_do_nothing(
        index_elements=list(index_elements)
    )


def insert_for(dialect_name: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` with ``ON CONFLICT`` support; both backends spell it the same."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_unless_unique_key_taken(dialect_name: str, jobs: sa.Table) -> sa.Insert:
    """``INSERT`` a job unless an unfinished job holds its ``unique_key`` (then nothing).

    ``ON CONFLICT (unique_key) WHERE ... DO NOTHING`` names the partial unique index.
    """
    return insert_for(dialect_name, jobs).on_conflict_do_nothing(
        index_elements=["unique_key"],
        index_where=sa.text(
            "unique_key IS NOT NULL AND status IN ('waiting', 'scheduled', 'queued', 'running')"
        ),
    )


def upsert_queue(dialect_name: str, queues: sa.Table, name: str, *, paused: bool) -> sa.Insert:
    """Create or update a queue's settings row."""
    return (
        insert_for(dialect_name, queues)
        .values(name=name, paused=paused, updated_at=now())
        .on_conflict_do_update(
            index_elements=["name"], set_={"paused": paused, "updated_at": now()}
        )
    )


# PostgreSQL takes a whole batch of jobs as one set of arrays: one statement, one round
# trip, and the "enqueued" events written by the same statement. The column list is
# the jobs table's (tables.py); the migration test keeps the two in step.
_POSTGRES_BULK_ENQUEUE = sa.text(
    """
    WITH batch AS (
        SELECT * FROM unnest(
            CAST(:kind AS text[]), CAST(:queue AS text[]), CAST(:payload AS text[]),
            CAST(:priority AS integer[]), CAST(:status AS text[]),
            CAST(:run_at AS timestamptz[]), CAST(:delay AS float8[]),
            CAST(:max_attempts AS integer[]), CAST(:retry AS text[]),
            CAST(:timeout AS float8[])
        ) AS b(kind, queue, payload, priority, status, run_at, delay, max_attempts, retry,
               timeout)
    ), inserted AS (
        INSERT INTO jobs (kind, queue, payload, priority, status, run_at, attempts,
                          max_attempts, retry, timeout, cancel_requested, created_at,
                          updated_at)
        SELECT kind, queue, CAST(payload AS jsonb), priority, status,
               coalesce(run_at, now() + delay * interval '1 second'), 0, max_attempts,
               CAST(retry AS jsonb), timeout, false, now(), now()
        FROM batch
        RETURNING id
    ), events AS (
        INSERT INTO job_events (job_id, type, at, attempt)
        SELECT id, 'enqueued', now(), 0 FROM inserted
    )
    SELECT id FROM inserted ORDER BY id
    """
)


def postgres_bulk_enqueue(rows: Sequence[dict[str, Any]]) -> tuple[sa.TextClause, dict[str, Any]]:
    """The statement and parameters that insert ``rows`` (the store's job rows).

    Ids come back ascending, which is the order of ``rows``: the sequence hands them
    out as ``unnest`` produces the rows.
    """
    dumps = orjson.dumps
    params = {
        "kind": [row["kind"] for row in rows],
        "queue": [row["queue"] for row in rows],
        "payload": [dumps(row["payload"]).decode() for row in rows],
        "priority": [row["priority"] for row in rows],
        "status": [row["status"] for row in rows],
        "run_at": [row["explicit_run_at"] for row in rows],
        "delay": [row["delay_s"] for row in rows],
        "max_attempts": [row["max_attempts"] for row in rows],
        "retry": [dumps(row["retry"]).decode() for row in rows],
        "timeout": [row["timeout"] for row in rows],
    }
    return _POSTGRES_BULK_ENQUEUE, params
