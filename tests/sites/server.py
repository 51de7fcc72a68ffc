"""Serving test sites on loopback, in a thread, with a log of every request.

The sites run on an event loop of their own in a background thread, so they keep
answering while a test blocks (waiting for a subprocess, say) and while the test's own
loop is busy running an in-process worker. Each site logs its requests (arrival time,
raw path with query, User-Agent) in a ``RequestLog`` that tests read to assert exactly
what a crawler asked for, how often, and how fast.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOG = web.AppKey("request_log", "RequestLog")


@dataclass(frozen=True)
class Request:
    """One request as the site saw it arrive."""

    at: float
    """``time.monotonic()`` when the handler was entered."""
    path: str
    """The raw path with its query, as sent (``/caf%C3%A9?a=1``)."""
    host: str
    """The ``Host`` header (``127.0.0.1:8080``, ``blog.site.test:8080``)."""
    user_agent: str


@dataclass
class RequestLog:
    """Every request a site received, in order of arrival. Safe to read from any thread."""

    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def counts(self, *, until: float | None = None) -> collections.Counter[str]:
        """How often each path (with query) was requested, optionally before ``until``."""
        return collections.Counter(
            r.path for r in self.snapshot() if until is None or r.at <= until
        )

    def times(self, keep: Callable[[str], bool] = lambda path: True) -> list[float]:
        """Arrival times of the requests whose path ``keep`` accepts."""
        return [r.at for r in self.snapshot() if keep(r.path)]

    def __len__(self) -> int:
        with self._lock:
            return len(self.requests)


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    request.app[LOG].add(
        Request(
            time.monotonic(),
            request.raw_path,
            request.host,
            request.headers.get("User-Agent", ""),
        )
    )
    return await handler(request)


def logged_app() -> web.Application:
    """An empty app whose requests are logged in ``app[LOG]``."""
    app = web.Application(middlewares=[_log_requests])
    app[LOG] = RequestLog()
    return app


GATE_TIMEOUT = 5.0
_SERVED = web.AppKey("served", dict[str, asyncio.Event])


def add_gates(app: web.Application, gates: dict[str, str]) -> web.Application:
    """Make each path in ``gates`` answer only once the path it maps to was served.

    This fixes the order of a concurrent crawl where a test's outcome depends on it. A
    gate opens anyway after ``GATE_TIMEOUT`` seconds, so that nothing hangs.
    """
    app[_SERVED] = {}

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        served = request.app[_SERVED]
        waits_for = gates.get(request.path)
        if waits_for is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(GATE_TIMEOUT):
                    await served.setdefault(waits_for, asyncio.Event()).wait()
        response = await handler(request)
        served.setdefault(request.path, asyncio.Event()).set()
        return response

    app.middlewares.append(gate)
    return app


@dataclass(frozen=True)
class Served:
    """A site being served: where, and what it was asked."""

    origin: str
    """``http://127.0.0.1:PORT``, no trailing slash."""
    host: str
    port: int
    app: web.Application = field(repr=False)

    @property
    def log(self) -> RequestLog:
        return self.app[LOG]

    def url(self, path: str = "/") -> str:
        return self.origin + path


class ServerThread:
    """An event loop in a thread that serves any number of apps until closed."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(target=self._run, name="test-sites", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Awaitable[Any]) -> Any:
        """Run ``coro`` on the servers' loop and return its result (blocking)."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout=30)

    def serve(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> Served:
        """Start serving ``app`` on ``host`` (a free port unless given)."""
        return self.call(self._start(app, host, port))

    async def _start(self, app: web.Application, host: str, port: int) -> Served:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, host, port, reuse_address=True).start()
        bound = runner.addresses[0][1]
        return Served(f"http://{host}:{bound}", host, bound, app)

    async def _stop(self) -> None:
        for runner in reversed(self._runners):
            with contextlib.suppress(Exception):
                await runner.cleanup()

    def close(self) -> None:
        if not self.loop.is_closed():
            self.call(self._stop())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()


@contextlib.contextmanager
def server_thread() -> Iterator[ServerThread]:
    servers = ServerThread()
    try:
        yield servers
    finally:
        servers.close()
