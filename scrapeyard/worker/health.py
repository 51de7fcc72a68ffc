"""``GET /healthz`` and ``GET /readyz`` for container orchestrators.

``/healthz`` answers 200 while the supervisor's event loop runs. ``/readyz`` answers 200
only when the database is reachable, every worker process is alive, and each has
heartbeated recently; otherwise 503 with the reasons, so a load balancer or Kubernetes
can tell a wedged worker from a healthy one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Readiness = Callable[[], Awaitable[list[str]]]
"""Returns what is wrong; an empty list means ready."""


class HealthServer:
    """A tiny HTTP server on ``host:port`` answering the two health endpoints."""

    def __init__(self, readiness: Readiness, *, host: str = "0.0.0.0", port: int) -> None:
        self._readiness = readiness
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        try:
            problems = await self._readiness()
        except Exception as exc:  # a readiness check that breaks means "not ready"
            problems = [f"readiness check failed: {type(exc).__name__}"]
        if problems:
            return web.json_response({"status": "unavailable", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})
