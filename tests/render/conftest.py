"""Fixtures for the browser tests: the scripted site and its canary on loopback, and
worker resources whose browser is Debian's Chromium (``scripts/test`` installs it).

Without a Chromium the tests are skipped, unless ``SCRAPEYARD_TEST_REQUIRE_BROWSER=1``
makes that an error. The test browser's JavaScript heap is small (64 MiB), so that a page
that eats memory crashes its renderer in a moment.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scrapeyard import errors
from scrapeyard.crawl.render import runtime
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources
from tests.crawl import harness
from tests.sites import scripted, server

REQUIRE_BROWSER = os.environ.get("SCRAPEYARD_TEST_REQUIRE_BROWSER") == "1"
TEST_BROWSER = runtime.BrowserConfig(max_pages=4, js_heap_mb=64)


@pytest.fixture(scope="session")
def chromium() -> Path:
    try:
        return runtime.find_executable()
    except errors.BrowserUnavailable as exc:
        if REQUIRE_BROWSER:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@dataclass(frozen=True)
class Sites:
    site: server.Served
    canary: server.Served


@pytest.fixture
def sites(chromium: Path) -> Iterator[Sites]:
    with server.server_thread() as servers:
        # The canary listens on another loopback address, which the crawl may not reach.
        canary = servers.serve(scripted.canary_app(), host="127.0.0.2")
        site = servers.serve(scripted.scripted_site(canary.origin, pages=300))
        yield Sites(site, canary)


@pytest.fixture
async def shared(store: JobStore, tmp_path: Path) -> AsyncIterator[Resources]:
    """A worker's resources allowed to reach 127.0.0.1 only, with the test browser."""
    resources = Resources(
        store,
        worker_id=harness.new_worker_id(),
        allowed_networks=harness.LOOPBACK,
        lease=5.0,
        data_dir=tmp_path / "data",
        browser=TEST_BROWSER,
    )
    try:
        yield resources
    finally:
        await resources.close()
