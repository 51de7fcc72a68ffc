"""Housekeeping every worker process runs on a timer: small units, each on its own clock.

Every unit is safe to run from many processes at once (each statement is guarded), so
there is no leader to elect: whichever worker gets there first does the work.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from scrapeyard import errors
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.workers import WorkerRegistry
from scrapeyard.worker import events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unit:
    """A named piece of housekeeping run every ``interval`` seconds."""

    name: str
    interval: float
    run: Callable[[], Awaitable[None]]


def units(
    store: JobStore,
    registry: WorkerRegistry,
    hooks: events.Hooks,
    *,
    rescue_interval: float,
    retention: float,
) -> list[Unit]:
    """The standard units: rescue lost jobs, promote due ones, purge old ones."""

    async def rescue() -> None:
        report = await store.rescue_expired()
        if report.total:
            log.warning(
                "rescued jobs from workers that stopped heartbeating: %d requeued, "
                "%d failed (attempts used up), %d cancelled",
                len(report.requeued),
                len(report.failed),
                len(report.cancelled),
            )
            await hooks.emit(
                "job_rescued", job_ids=report.requeued + report.failed + report.cancelled
            )

    async def promote() -> None:
        await store.promote_scheduled()

    async def purge() -> None:
        purged = await store.purge_finished(retention)
        forgotten = await registry.forget(older_than=max(retention, 86400.0))
        if purged or forgotten:
            log.info("purged %d finished jobs and %d old worker rows", purged, forgotten)

    return [
        Unit("rescue", rescue_interval, rescue),
        Unit("promote", 1.0, promote),
        Unit("purge", 600.0, purge),
    ]


async def run_forever(unit: Unit) -> None:
    """Run ``unit`` every ``interval`` (first run after a random part of it), forever."""
    await asyncio.sleep(unit.interval * random.random())
    while True:
        try:
            await unit.run()
        except errors.DatabaseUnavailable as exc:
            log.warning("maintenance %s skipped: %s", unit.name, exc)
        except Exception:
            log.exception("maintenance %s failed", unit.name)
        await asyncio.sleep(unit.interval)
