"""``scrapeyard demo``: see the queue and workers at work on the embedded SQLite store."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scrapeyard import config
from scrapeyard.cli import common
from scrapeyard.connect import open_store
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.worker import supervisor
from scrapeyard.worker.queues import QueueSelector


def demo(
    jobs: Annotated[int, typer.Option("--jobs", help="How many demo jobs to run.")] = 2000,
    processes: Annotated[int, typer.Option("--processes", "-p", help="Worker processes.")] = 2,
) -> None:
    """Enqueue demo jobs and run them with a worker pool, showing live progress."""
    loaded = common.settings()
    common.console.print(
        f"Database: [bold]{loaded.database_url}[/]  (set SCRAPEYARD_DATABASE_URL to change)",
        highlight=False,
    )
    common.run(_demo(loaded, jobs, processes))


async def _demo(loaded: config.Settings, count: int, processes: int) -> None:
    rng = random.Random(7)
    specs = [
        JobSpec(
            "noop",
            {"n": n, "sleep": round(rng.choice([0, 0, 0, 0.01, 0.05]), 3)},
            queue="demo",
            priority=rng.choice([0, 0, 0, 5]),
        )
        for n in range(count)
    ]
    async with open_store(loaded, pool_size=2) as store:
        before = await store.status_counts()
        ids = await store.enqueue_many(specs)
        common.console.print(f"Enqueued {len(ids)} jobs on queue 'demo' (ids {ids[0]}-{ids[-1]}).")
        boss = supervisor.Supervisor(
            loaded,
            processes=processes,
            queues=QueueSelector(("demo",)),
            concurrency=20,
            burst=True,
        )
        started = time.monotonic()
        workers = asyncio.create_task(boss.run())
        columns = (
            TextColumn("[bold]running demo jobs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=common.console) as progress:
            bar = progress.add_task("jobs", total=count)
            while not workers.done():
                counts = await store.status_counts()
                finished = counts["succeeded"] + counts["failed"] - before["succeeded"]
                progress.update(bar, completed=min(finished - before["failed"], count))
                await asyncio.sleep(0.2)
        await workers
        elapsed = time.monotonic() - started
        counts = await store.status_counts()
    done = counts["succeeded"] - before["succeeded"]
    common.console.print(
        f"{done} jobs succeeded in {elapsed:.1f}s with {processes} worker processes "
        f"({done / elapsed:.0f} jobs/s, process start-up included)."
    )
    common.console.print(
        "Next: [bold]scrapeyard jobs list --queue demo[/], "
        f"[bold]scrapeyard jobs show {ids[-1]}[/], [bold]scrapeyard jobs counts[/]."
    )
