"""``scrapeyard worker`` (run jobs) and ``scrapeyard workers`` (see who runs them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from scrapeyard import config, errors
from scrapeyard.cli import common
from scrapeyard.queue import migrate
from scrapeyard.queue.database import open_database
from scrapeyard.queue.workers import WorkerInfo, WorkerRegistry
from scrapeyard.worker import supervisor
from scrapeyard.worker.queues import QueueSelector


def worker(
    processes: Annotated[
        int | None,
        typer.Option("--processes", "-p", help="Worker processes (default: number of cores)."),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-c", help="Jobs at once per process (default 10)."),
    ] = None,
    queues: Annotated[
        str,
        typer.Option(
            "--queues",
            "-q",
            help="Queues in the order served (crawl,default) or weighted (crawl:3,default:1).",
        ),
    ] = "default",
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit 0 once no job is ready in the queues.")
    ] = False,
    health_port: Annotated[
        int | None,
        typer.Option("--health-port", help="Serve GET /healthz and /readyz on this port."),
    ] = None,
) -> None:
    """Run jobs: a supervisor with N worker processes, until SIGTERM/Ctrl-C (or --burst)."""
    selector = QueueSelector.parse(queues)
    overrides: dict[str, dict[str, int | None]] = {
        "worker": {"processes": processes, "concurrency": concurrency}
    }
    loaded = common.settings(**overrides)
    count = loaded.worker.processes or config.cpu_count()
    if health_port is not None and not 0 < health_port < 65536:
        raise errors.InvalidInput("health-port", "must be between 1 and 65535")
    boss = supervisor.Supervisor(
        loaded,
        processes=count,
        queues=selector,
        concurrency=loaded.worker.concurrency,
        burst=burst,
        health_port=health_port,
    )
    raise typer.Exit(common.run(boss.run()))


def _age(value: datetime) -> str:
    seconds = (datetime.now(value.tzinfo) - value).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def workers(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    stale_after: Annotated[
        float | None,
        typer.Option("--stale-after", help="Seconds without heartbeat that mark a worker stale."),
    ] = None,
) -> None:
    """List worker processes and their heartbeats; silent ones are marked stale."""
    loaded = common.settings()
    threshold = stale_after or 3 * loaded.queue.heartbeat_interval

    async def go() -> list[WorkerInfo]:
        db = open_database(loaded.database_url, pool_size=1)
        try:
            await migrate.ensure_schema(db)
            return await WorkerRegistry(db).list(stale_after=threshold)
        finally:
            await db.dispose()

    found = common.run(go())
    if as_json:
        common.print_json([info.to_json() for info in found])
        return
    table = Table("id", "host", "pid", "state", "queues", "running", "ok", "failed", "rss", "seen")
    for info in found:
        state = f"[red]stale[/] ({info.state})" if info.stale else str(info.state)
        table.add_row(
            info.id,
            info.host,
            str(info.pid),
            state,
            ",".join(info.queues),
            str(info.jobs_running),
            str(info.jobs_succeeded),
            str(info.jobs_failed),
            f"{info.rss_bytes / 2**20:.0f} MB",
            _age(info.last_seen_at),
        )
    common.console.print(table)
