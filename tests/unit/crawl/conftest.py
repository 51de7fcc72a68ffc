"""Fixtures for the crawl tests: loopback servers, and fetchers allowed to reach them.

The servers live on 127.0.0.1, which the SSRF guard refuses by default; so the
``fetcher`` fixture allows exactly ``127.0.0.1/32``, and tests that check refusals build
their own fetcher with a narrower policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from scrapeyard.crawl import addresses, fetcher
from tests.unit.crawl import sites

Serve = Callable[..., Awaitable[str]]
ServeRaw = Callable[[sites.RawHandler], Awaitable[str]]

TEST_TIMEOUTS = fetcher.Timeouts(connect=2.0, read=2.0, total=5.0)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Runs an aiohttp app on a loopback address; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application, host: str = "127.0.0.1") -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, host, 0).start()
        port = runner.addresses[0][1]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
async def serve_raw() -> AsyncIterator[ServeRaw]:
    """Runs a raw TCP handler on 127.0.0.1, for answers aiohttp would never send."""
    servers: list[asyncio.Server] = []

    async def start(handler: sites.RawHandler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.fixture
def hostile() -> web.Application:
    return sites.hostile_app()


@pytest.fixture
async def site(serve: Serve, hostile: web.Application) -> str:
    """The base URL of the hostile test site, on 127.0.0.1."""
    return await serve(hostile)


@pytest.fixture
def loopback() -> addresses.AddressPolicy:
    """A policy that allows exactly the test servers' address."""
    return addresses.AddressPolicy(allowed_networks=["127.0.0.1/32"])


@pytest.fixture
async def client(loopback: addresses.AddressPolicy) -> AsyncIterator[fetcher.Fetcher]:
    """A fetcher allowed to reach 127.0.0.1 and nothing else private."""
    async with fetcher.Fetcher(loopback, timeouts=TEST_TIMEOUTS) as opened:
        yield opened


@pytest.fixture
async def strict_client() -> AsyncIterator[fetcher.Fetcher]:
    """A fetcher with the default policy: no private address at all."""
    async with fetcher.Fetcher(addresses.AddressPolicy(), timeouts=TEST_TIMEOUTS) as opened:
        yield opened
