"""Opening the database: URL handling, engine settings per backend, failures as ours.

SQLite runs in WAL mode with a busy timeout, so readers never block the writer and
writers from several processes wait their turn instead of failing. Write transactions
begin with ``BEGIN IMMEDIATE``: a deferred transaction that reads first and writes later
could find its snapshot stale at the write and fail with "database is locked" no matter
how long the busy timeout is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from scrapeyard import config, errors

Backend = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLSTATE classes and codes that mean "the server is not there right now":
# 08 connection exception, 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
# connect now (starting up or shutting down).
_UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
# 40001 serialization failure, 40P01 deadlock detected: the transaction was rolled back
# because of another one, and may simply run again.
_CONFLICT_SQLSTATES = ("40001", "40P01")


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or went away."""
    if isinstance(exc, OSError | sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        state = getattr(exc.orig, "sqlstate", None) or ""
        return state.startswith(_UNREACHABLE_SQLSTATES)
    return False


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a transaction the server rolled back for colliding with another."""
    if isinstance(exc, sa.exc.DBAPIError):
        return (getattr(exc.orig, "sqlstate", None) or "") in _CONFLICT_SQLSTATES
    return False


_WRITE_OPTION = "scrapeyard_write"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def async_url(url: str) -> URL:
    """The URL with the async driver scrapeyard uses for its backend."""
    try:
        config.check_database_url(url)
    except ValueError as exc:
        raise errors.InvalidInput("database_url", str(exc)) from None
    parsed = make_url(url)
    backend = config.BACKENDS[parsed.get_backend_name()]
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed.set(drivername="postgresql+asyncpg")


def redact(url: str | URL) -> str:
    """The URL as it may appear in logs and messages: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL may itself hold a password; show nothing
        return "<database url>"


@dataclass(frozen=True)
class Database:
    """An engine and what we know about it; one per process and database URL."""

    engine: AsyncEngine
    backend: Backend
    url: str
    """Redacted: safe to print."""

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @contextlib.asynccontextmanager
    async def write(self, *, durable: bool = True) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on exit, rolled back on error.

        ``durable=False`` lets PostgreSQL acknowledge the commit before it reaches disk
        (``synchronous_commit = off``): a server crash may forget the last fraction of a
        second of such commits, never corrupt anything. The queue uses it for claims,
        heartbeats and completions, which a lost commit merely repeats (the job runs
        again); never for accepting jobs. Connection failures, inside the block or at
        commit, raise ``DatabaseUnavailable``; a deadlock or serialization failure raises
        ``TransactionConflict`` (a kind of it: the same retry is right).
        """
        try:
            async with self.engine.execution_options(**{_WRITE_OPTION: True}).begin() as conn:
                if not durable and self.backend == "postgresql":
                    await conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                yield conn
        except Exception as exc:
            if is_unreachable(exc):
                raise unavailable(self.url, exc) from exc
            if is_conflict(exc):
                raise conflict(exc) from exc
            raise

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads; its transaction is rolled back on exit."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_unreachable(exc):
                raise unavailable(self.url, exc) from exc
            raise

    async def ping(self) -> None:
        """Raise ``DatabaseUnavailable`` unless a trivial query succeeds."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def warm(self, connections: int) -> None:
        """Open ``connections`` pooled connections now (at most the pool's size), so the
        first burst of requests does not wait for them to be made one by one."""
        count = max(0, min(connections, self.engine.pool.size()))  # type: ignore[attr-defined]
        async with contextlib.AsyncExitStack() as stack:
            opened = [stack.enter_async_context(self.engine.connect()) for _ in range(count)]
            await asyncio.gather(*opened)

    async def dispose(self) -> None:
        await self.engine.dispose()


def unavailable(url: str, exc: BaseException) -> errors.DatabaseUnavailable:
    """A ``DatabaseUnavailable`` whose message names the cause but never a password."""
    cause = getattr(exc, "orig", None) or exc
    reason = type(cause).__name__
    detail = str(cause).splitlines()[0] if str(cause) else ""
    # Driver messages can quote the DSN; strip anything that looks like one.
    if "://" in detail or "password" in detail.lower():
        detail = ""
    text = f"cannot reach the database at {url}: {reason}"
    return errors.DatabaseUnavailable(f"{text}: {detail}" if detail else text)


def conflict(exc: BaseException) -> errors.TransactionConflict:
    """A ``TransactionConflict`` naming what the server said (deadlock, serialization)."""
    cause = getattr(exc, "orig", None) or exc
    detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return errors.TransactionConflict(f"transaction rolled back, safe to retry: {detail}")


POSTGRES_STATEMENT_CACHE = 32
"""Prepared statements kept per PostgreSQL connection (the driver's default is 100).
Multi-row inserts of every batch size are statements of their own, and large ones: with
100 per connection, a 50,000-page crawl peaked at 296 MB against 178 MB with 32, and
ran no faster. The hot statements (claims, heartbeats, completions) stay cached."""


def open_database(url: str, *, pool_size: int = 10, echo: bool = False) -> Database:
    """An engine for ``url`` configured for its backend (no connection is made yet)."""
    driver_url = async_url(url)
    backend: Backend = "sqlite" if driver_url.get_backend_name() == "sqlite" else "postgresql"
    options: dict[str, Any] = {
        "echo": echo,
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if backend == "sqlite":
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        options["pool_size"] = pool_size
        options["max_overflow"] = pool_size
    else:
        options["pool_size"] = pool_size
        options["max_overflow"] = pool_size
        options["connect_args"] = {"prepared_statement_cache_size": POSTGRES_STATEMENT_CACHE}
        options["pool_pre_ping"] = True
        options["pool_recycle"] = 1800
    engine = create_async_engine(driver_url, **options)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return Database(engine=engine, backend=backend, url=redact(url))


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver; "begin" below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 512 KiB of page cache per connection (the default is 2 MiB): the OS caches the
        # file anyway, and a process holds several connections.
        cursor.execute("PRAGMA cache_size=-512")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writes take the write lock at once. Reads open no transaction: each statement
        # reads a snapshot of its own (WAL readers never wait), which saves the BEGIN
        # and ROLLBACK round trips to the driver's thread that every pooled read paid.
        if conn.get_execution_options().get(_WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    dialect = sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        # A read left no transaction open: nothing to roll back, no trip to make.
        driver = dialect.get_driver_connection(dbapi_connection)
        if driver is not None and not driver.in_transaction:
            return
        rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
