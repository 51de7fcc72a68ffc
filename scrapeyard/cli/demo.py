"""``scrapeyard demo``: everything at work on a laptop, with no network and no setup.

It starts a small generated shop on loopback (loopback is allowed for this command
only), starts ``serve`` (the API, the dashboard and worker processes) on the configured
database (``./scrapeyard.db`` by default), submits a crawl of the shop through the API,
shows its progress live, then prints where to look next, and keeps serving until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from scrapeyard import config, connect
from scrapeyard.cli import common
from scrapeyard.demo import site as demo_site
from scrapeyard.queue import keys
from scrapeyard.worker import supervisor
from scrapeyard.worker.queues import QueueSelector

LOOPBACK = "127.0.0.0/8"
DEMO_KEY = "demo"


def demo(
    port: Annotated[
        int, typer.Option("--port", help="API and dashboard port (another if it is taken).")
    ] = 8000,
    processes: Annotated[int, typer.Option("--processes", "-p", help="Worker processes.")] = 2,
    pages: Annotated[int, typer.Option("--pages", help="Products in the demo shop.")] = 240,
) -> None:
    """Crawl a generated demo shop through the API, with workers and the dashboard."""
    loaded = common.settings(log_level=common.GLOBAL_OPTIONS.get("log_level") or "warning")
    loaded = loaded.model_copy(update={"allowed_networks": [*loaded.allowed_networks, LOOPBACK]})
    raise typer.Exit(common.run(_demo(loaded, _port(port), processes, pages)))


def _port(wanted: int) -> int:
    """``wanted`` if it is free on loopback, else 0 (any free port)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            return 0
    return wanted


async def _demo_key(loaded: config.Settings) -> str:
    """A fresh admin key named ``demo``; earlier demo keys are revoked."""
    async with connect.open_store(loaded, pool_size=1) as store:
        key_store = keys.KeyStore(store.db)
        for existing in await key_store.list():
            if existing.name == DEMO_KEY and existing.revoked_at is None:
                await key_store.revoke(existing.id)
        return (await key_store.create(DEMO_KEY, keys.Scope.ADMIN)).secret


async def _demo(loaded: config.Settings, port: int, processes: int, pages: int) -> int:
    from scrapeyard.cli import serving

    runner, shop = await demo_site.start(pages)
    try:
        key = await _demo_key(loaded)
        boss = supervisor.Supervisor(
            loaded, processes=processes, queues=QueueSelector(("default",)), concurrency=4
        )

        async def crawl_the_shop(url: str) -> None:
            await _crawl_and_report(url, key, shop, pages)

        return await serving.run(loaded, "127.0.0.1", port, boss, on_ready=crawl_the_shop)
    finally:
        await runner.cleanup()


async def _crawl_and_report(url: str, key: str, shop: str, pages: int) -> None:
    from scrapeyard.client import Client

    def say(text: str = "") -> None:
        common.console.print(text, highlight=False, soft_wrap=True)

    say(f"Demo shop: {shop}/ ({pages} products)")
    async with Client(url, key) as client:
        started = await client.crawl(
            f"{shop}/",
            max_pages=pages * 2,
            formats=["metadata", "markdown"],
            selectors=demo_site.SELECTORS,
            rate_limit={"requests_per_second": 40, "burst": 20},
        )
        job_id = started["job"]["id"]
        say(f"Crawl submitted through the API: job {job_id}")
        job = await _follow(client, job_id)
    stats: dict[str, Any] = job.get("stats") or {}
    say(
        f"Crawl {job['status']}: {stats.get('fetched', 0)} pages stored, "
        f"{stats.get('skipped_robots', 0)} URLs left alone because robots.txt says so, "
        f"{stats.get('failed', 0)} failed."
    )
    export = f'curl -H "Authorization: Bearer {key}" "{url}/v1/jobs/{job_id}/export?format=csv"'
    say()
    say(f"Dashboard:  [bold]{url}/[/]  (log in with the admin key)")
    say(f"Admin key:  [bold]{key}[/]  (shown only now)")
    say(f"API docs:   {url}/docs")
    say(f"The crawl:  {url}/v1/jobs/{job_id}")
    say(f"Export it:  {export} -o demo.csv")
    say("Still serving; Ctrl-C stops everything.")


async def _follow(client: Any, job_id: int) -> dict[str, Any]:
    """Show the crawl's progress until it finishes; the finished job."""
    columns = (
        TextColumn("[bold]crawling"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} pages"),
        TextColumn("{task.fields[rate]:>5.1f} pages/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=common.console) as progress:
        bar = progress.add_task("crawl", total=1, rate=0.0)
        while True:
            job: dict[str, Any] = await client.get_job(job_id)
            stats = job.get("stats") or {}
            done = stats.get("fetched", 0) + stats.get("failed", 0)
            progress.update(
                bar,
                completed=done,
                total=max(done + stats.get("open", 0), 1),
                rate=(job.get("progress") or {}).get("pages_per_second", 0.0),
            )
            if job["status"] in ("succeeded", "failed", "cancelled"):
                return job
            await asyncio.sleep(0.3)
