"""Fixtures for the crawl engine's integration tests: real sites on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sites import server


@pytest.fixture
def sites() -> Iterator[server.ServerThread]:
    """A thread serving the test's sites; ``sites.serve(app)`` starts one."""
    with server.server_thread() as servers:
        yield servers
