"""Fixtures for the dataset tests: a data directory, and sites on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sites import server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def sites() -> Iterator[server.ServerThread]:
    with server.server_thread() as servers:
        yield servers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes a minute or more; the default run includes it (-m 'not slow')"
    )
