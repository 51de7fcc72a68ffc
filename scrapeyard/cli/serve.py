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

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
import uvicorn

from scrapeyard import app as composition
from scrapeyard import config, connect, errors
from scrapeyard.api import auth
from scrapeyard.cli import common
from scrapeyard.queue import database, keys
from scrapeyard.worker import supervisor
from scrapeyard.worker.queues import QueueSelector

GRACEFUL_SHUTDOWN = 10
"""Seconds open HTTP requests get to finish once the API stops."""

Host = Annotated[str, typer.Option("--host", help="Address to listen on.")]
Port = Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: this command decides what signals mean."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Uncoloured(logging.Filter):
    """Drops the ANSI-coloured copy uvicorn attaches to some records; our format is ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


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
    raise typer.Exit(common.run(_run(loaded, host, port, boss)))


def api(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the HTTP API only (for hosts that serve HTTP while others run the workers)."""
    raise typer.Exit(common.run(_run(common.settings(), host, port, None)))


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port < 65536:
        raise errors.InvalidInput("port", "must be between 0 and 65535")
    try:
        return socket.create_server((host, port), family=_family(host), reuse_port=False)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise errors.InvalidInput("port", f"cannot listen on {host}:{port}: {reason}") from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


async def _first_key(loaded: config.Settings, host: str) -> str | None:
    """A new admin key if no usable key exists (loopback only); also checks the schema."""
    async with connect.open_store(loaded, pool_size=1) as store:
        key_store = keys.KeyStore(store.db)
        if await key_store.has_active():
            return None
        if not auth.is_loopback(host):
            raise errors.ConfigError(
                "host",
                f"no API key exists yet, so serving on {host} is refused: create one with "
                "`scrapeyard keys create --name admin --scope admin` and start again "
                "(on 127.0.0.1 the first start creates one for you)",
            )
        return (await key_store.create("admin", keys.Scope.ADMIN)).secret


def _banner(
    loaded: config.Settings, address: str, boss: supervisor.Supervisor | None, key: str | None
) -> None:
    def say(text: str) -> None:
        common.console.print(text, highlight=False, soft_wrap=True)

    say(f"scrapeyard API on [bold]{address}[/] (docs: {address}/docs)")
    say(f"database: {database.redact(loaded.database_url)}")
    if boss is not None:
        say(
            f"workers: {len(boss.slots)} processes x {boss.plan.concurrency} jobs, "
            f"queues {boss.plan.queues}"
        )
    if key is not None:
        say("Created an admin API key. It is shown only this once: store it now.")
        say(f"admin key: {key}")
    say("Ctrl-C to stop.")


async def _api(server: uvicorn.Server, sock: socket.socket) -> int:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits this way when the app cannot start
        return int(exc.code or 1) if isinstance(exc.code, int) else 1
    return 0


async def _run(
    loaded: config.Settings, host: str, port: int, boss: supervisor.Supervisor | None
) -> int:
    sock = _bind(host, port)
    try:
        key = await _first_key(loaded, host)
    except BaseException:
        sock.close()
        raise
    app = composition.create_app(loaded)
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(_Uncoloured())
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=loaded.log_level == "debug",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        )
    )
    bound_host, bound_port = sock.getsockname()[:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    _banner(loaded, f"http://{shown_host}:{bound_port}", boss, key)

    def stop_api() -> None:
        composition.close_streams(app)
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    api_task = asyncio.create_task(_api(server, sock))
    if boss is None:
        return await _until_signalled(api_task, stop_api)
    return await _with_workers(api_task, stop_api, boss)


async def _until_signalled(api_task: asyncio.Task[int], stop_api: Callable[[], None]) -> int:
    """The API alone: the first signal stops it gracefully, a second one at once."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_api)
    try:
        return await api_task
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _with_workers(
    api_task: asyncio.Task[int], stop_api: Callable[[], None], boss: supervisor.Supervisor
) -> int:
    """The API and the supervisor; the supervisor owns SIGTERM and SIGINT.

    It installs their handlers as it starts and drains the workers on a signal; the
    API follows once they have stopped.
    """
    work_task = asyncio.create_task(boss.run())
    done, _ = await asyncio.wait({api_task, work_task}, return_when=asyncio.FIRST_COMPLETED)
    if work_task in done:
        stop_api()
        await api_task
        return work_task.result()
    # The API stopped on its own (it could not start): stop the workers the way an
    # operator would, so they drain instead of being orphaned.
    os.kill(os.getpid(), signal.SIGTERM)
    await work_task
    return api_task.result() or 1
