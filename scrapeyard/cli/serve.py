"""``scrapeyard serve`` (the API and a worker supervisor) and ``scrapeyard api`` (the API only).

Both run uvicorn in this process on a socket bound before anything else starts, so a
port in use is a one-line error. On first start with no usable API key, an admin key
is created and printed once, like a notebook server's token; without a key, binding
to anything but loopback is refused, because the key would only be printed to a
console nobody may be watching.

Stopping: with workers, SIGTERM or Ctrl-C goes to the supervisor, which drains its
processes (a second signal hurries them); the API keeps answering meanwhile, so the
drain can be watched, and stops once they are done. Without workers, the first
signal stops the API gracefully and a second one stops it at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from scrapeyard import config
from scrapeyard.cli import common
from scrapeyard.worker import supervisor
from scrapeyard.worker.queues import QueueSelector

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")]


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
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
            help="Queues the workers serve: in order (crawl,default) or weighted "
            "(crawl:3,default:1).",
        ),
    ] = "default",
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Run the API only, without workers.")
    ] = False,
) -> None:
    """Run the HTTP API and a worker supervisor on the configured database, until Ctrl-C."""
    selector = QueueSelector.parse(queues)
    overrides: dict[str, dict[str, int | None]] = {
        "worker": {"processes": processes, "concurrency": concurrency}
    }
    loaded = common.settings(**overrides)
    boss = None
    if not no_worker:
        boss = supervisor.Supervisor(
            loaded,
            processes=loaded.worker.processes or config.cpu_count(),
            queues=selector,
            concurrency=loaded.worker.concurrency,
        )
    from scrapeyard.cli import serving  # the web stack, loaded only by these commands

    raise typer.Exit(common.run(serving.run(loaded, host, port, boss)))


def api(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the HTTP API only (for hosts that serve HTTP while others run the workers)."""
    from scrapeyard.cli import serving

    raise typer.Exit(common.run(serving.run(common.settings(), host, port, None)))
