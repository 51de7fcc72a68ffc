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
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.crawl.render import outputs as captures
from scrapeyard.notify import events as notify_events
from scrapeyard.queue.schedules import Fired, ScheduleStore
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.workers import WorkerRegistry
from scrapeyard.worker import archive_jobs, events, notify_hooks

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
    data_dir: Path | None = None,
    worker_id: str | None = None,
) -> list[Unit]:
    """The standard units: rescue lost jobs, promote due ones, fire schedules, purge old
    ones; and the notifications' (which also subscribes their hooks to this worker's
    ``hooks``)."""

    async def rescue() -> None:
        report = await store.rescue_expired(spare=worker_id)
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

    async def tell_fired(conn: AsyncConnection, fired: Fired) -> None:
        scope = notify_events.Scope(schedule_id=fired.schedule_id, job_id=fired.job_id)
        await notify_events.emit(store, "schedule.fired", fired.to_json(), scope, conn=conn)

    schedules = ScheduleStore(store, on_fire=tell_fired)

    async def fire_schedules() -> None:
        await schedules.fire_due()

    async def purge() -> None:
        purged = await store.purge_finished(retention)
        forgotten = await registry.forget(older_than=max(retention, 86400.0))
        if purged or forgotten:
            log.info("purged %d finished jobs and %d old worker rows", purged, forgotten)
        if data_dir is not None:
            await sweep_captures(store, data_dir)

    notify_hooks.attach(hooks, store)

    async def forget_notifications() -> None:
        deliveries, notices = await notify_hooks.purge(store)
        if deliveries or notices:
            log.info("purged %d old webhook deliveries and %d notices", deliveries, notices)

    async def datasets() -> None:
        await archive_jobs.maintain(store)

    return [
        Unit("rescue", rescue_interval, rescue),
        Unit("notifications", 3600.0, forget_notifications),
        Unit("promote", 1.0, promote),
        Unit("schedules", 1.0, fire_schedules),
        Unit("purge", 600.0, purge),
        Unit("datasets", 3600.0, datasets),
    ]


async def sweep_captures(store: JobStore, data_dir: Path) -> int:
    """Remove the screenshot and PDF folders of jobs that no longer exist; how many."""
    folders = await asyncio.to_thread(captures.job_folders, data_dir)
    if not folders:
        return 0
    ids = sorted(folders)
    existing: set[int] = set()
    for start in range(0, len(ids), 500):
        existing.update(await store.get_many(ids[start : start + 500]))
    doomed = [path for job_id, path in folders.items() if job_id not in existing]
    for path in doomed:
        await asyncio.to_thread(captures.remove, path)
    if doomed:
        log.info("removed the captures of %d jobs that no longer exist", len(doomed))
    return len(doomed)


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
