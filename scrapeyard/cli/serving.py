"""What ``serve`` and ``api`` run: uvicorn on a pre-bound socket, and the supervisor.

Imported only by those commands, so the rest of the CLI does not load the web stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator

import uvicorn

from scrapeyard import app as composition
from scrapeyard import config, connect, errors
from scrapeyard.api import auth
from scrapeyard.cli import common
from scrapeyard.queue import database, keys
from scrapeyard.worker import supervisor

GRACEFUL_SHUTDOWN = 10
"""Seconds open HTTP requests get to finish once the API stops."""


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


def _bind(host: str, port: int) -> socket.socket:
    if not 0 <= port < 65536:
        raise errors.InvalidInput("port", "must be between 0 and 65535")
    # The protocol is named (not left 0, as socket.create_server leaves it): asyncio sets
    # TCP_NODELAY only on connections of a socket whose proto is TCP, and without it a
    # response's body waits behind its headers for the client's delayed ACK (~40 ms).
    family = _family(host)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(2048)
        return sock
    except OSError as exc:
        sock.close()
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


Ready = Callable[[str], Awaitable[None]]
"""Called with the API's base URL once it answers (``scrapeyard demo`` starts there)."""


async def run(
    loaded: config.Settings,
    host: str,
    port: int,
    boss: supervisor.Supervisor | None,
    *,
    on_ready: Ready | None = None,
) -> int:
    """Serve the API (and run the workers) until a signal; the exit status."""
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
    freezing = asyncio.create_task(_freeze_heap_once_started(server))
    api_task.add_done_callback(lambda _: freezing.cancel())
    if on_ready is not None:
        ready = asyncio.create_task(
            _when_started(server, f"http://{shown_host}:{bound_port}", on_ready)
        )
        api_task.add_done_callback(lambda _: ready.cancel())
    if boss is None:
        return await _until_signalled(api_task, stop_api)
    return await _with_workers(api_task, stop_api, boss)


async def _freeze_heap_once_started(server: uvicorn.Server) -> None:
    """Hide what start-up built from the garbage collector, once the API answers.

    The app, its routes and schemas, and the drivers' caches live as long as the process.
    Left in the collector's oldest generation, every full collection walks them all:
    a pause of 100 ms and more, every few seconds under load, that a request waiting
    behind it pays. Frozen, a full collection walks only what requests made.
    """
    await _started(server)
    gc.collect()
    gc.freeze()


async def _started(server: uvicorn.Server) -> None:
    """Return once uvicorn answers requests (it says so by a flag, not an event)."""
    while not server.started:
        await asyncio.sleep(0.05)


async def _when_started(server: uvicorn.Server, url: str, on_ready: Ready) -> None:
    await _started(server)
    try:
        await on_ready(url)
    except asyncio.CancelledError:
        raise
    except Exception:
        logging.getLogger("scrapeyard.cli").exception("start-up task failed")


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
    # The API stopped on its own (it could not start): drain the workers rather than
    # orphan them.
    boss.stop()
    await work_task
    return api_task.result() or 1
