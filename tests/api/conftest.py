"""Fixtures for the API tests: a live server on each backend, keys of each scope, clients."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

import tests.support.kinds  # noqa: F401  (registers the test job kinds in this process)
from scrapeyard import config
from scrapeyard.api.options import ApiOptions
from scrapeyard.queue import keys
from scrapeyard.queue.store import JobStore
from tests.api import live

StartServer = Callable[[ApiOptions], str]


@pytest.fixture
def start_server(settings: config.Settings) -> Iterator[StartServer]:
    """Start the API with the given options; every server started stops after the test."""
    with contextlib.ExitStack() as stack:

        def start(options: ApiOptions = live.FAST) -> str:
            return stack.enter_context(live.live_server(settings, options)).url

        yield start


@pytest.fixture
def api_url(start_server: StartServer) -> str:
    return start_server(live.FAST)


@pytest.fixture
async def key_store(store: JobStore) -> AsyncIterator[keys.KeyStore]:
    key_store = keys.KeyStore(store.db)
    yield key_store
    # A key's use is recorded in the background: done before the database goes away.
    await key_store.settle()


@pytest.fixture
async def admin_key(key_store: keys.KeyStore) -> str:
    return (await key_store.create("admin", keys.Scope.ADMIN)).secret


@pytest.fixture
async def api(api_url: str, admin_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the live API, sending an admin key."""
    headers = {"Authorization": f"Bearer {admin_key}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as client:
        yield client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
