"""Opening the job store from settings: the composition every entry point shares."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from scrapeyard import config
from scrapeyard.queue import database, migrate, retry, store, wakeup
from scrapeyard.worker import builtin, handlers


def job_defaults(settings: config.Settings) -> store.JobDefaults:
    """The job defaults the configuration sets."""
    return store.JobDefaults(
        max_attempts=settings.retry.max_attempts,
        retry=retry.RetryPolicy(
            backoff=settings.retry.backoff,
            base_delay=settings.retry.base_delay,
            max_delay=settings.retry.max_delay,
            jitter=settings.retry.jitter,
        ),
        lease_duration=settings.queue.lease_duration,
    )


@contextlib.asynccontextmanager
async def open_store(
    settings: config.Settings | None = None,
    *,
    database_url: str | None = None,
    registry: handlers.Registry | None = None,
    wakeup_signal: wakeup.Wakeup | None = None,
    pool_size: int = 10,
) -> AsyncIterator[store.JobStore]:
    """A ready ``JobStore`` for the configured database, closed on exit.

    A SQLite file gets pending migrations applied; an out-of-date PostgreSQL schema is
    refused with ``SchemaOutOfDate``, which names the command that fixes it.

        async with scrapeyard.open_store(database_url="sqlite:///jobs.db") as jobs:
            job = await jobs.enqueue(scrapeyard.JobSpec("noop", {"hello": "world"}))
    """
    settings = settings or config.load_settings()
    url = database_url or settings.database_url
    if registry is None:
        registry = builtin.handlers.registry
        handlers.import_modules(settings.imports)
    db = database.open_database(url, pool_size=pool_size)
    try:
        await migrate.ensure_schema(db)
        yield store.JobStore(
            db,
            kinds=registry,
            defaults=job_defaults(settings),
            wakeup_signal=wakeup_signal,
        )
    finally:
        await db.dispose()
