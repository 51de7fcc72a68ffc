"""Fixtures shared by the whole suite: a fresh database on each backend, and a store.

Tests that take the ``database_url`` or ``store`` fixture run once on SQLite and once on
PostgreSQL. The PostgreSQL server comes from ``SCRAPEYARD_TEST_POSTGRES_URL`` (the test
command, ``scripts/test``, starts a throwaway one); without it those runs are skipped,
unless ``SCRAPEYARD_TEST_REQUIRE_POSTGRES=1`` makes that an error.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from scrapeyard import config, connect
from scrapeyard.queue import database, migrate
from scrapeyard.queue.store import JobStore

BACKENDS = ["sqlite", "postgresql"]
POSTGRES_URL = os.environ.get("SCRAPEYARD_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("SCRAPEYARD_TEST_REQUIRE_POSTGRES") == "1"


async def _migrate(url: str) -> None:
    db = database.open_database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy, which is faster than migrating."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if POSTGRES_URL is None:
        if REQUIRE_POSTGRES:
            pytest.fail("SCRAPEYARD_TEST_POSTGRES_URL is not set; run the suite with scripts/test")
        pytest.skip("no PostgreSQL (set SCRAPEYARD_TEST_POSTGRES_URL, or run scripts/test)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """A migrated template database; each test gets a fresh copy of it."""
    name = f"scrapeyard_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(postgres_server))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        await _migrate(str(make_url(postgres_server).set(database=name)))

    async def drop() -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(postgres_server))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


def _fresh_postgres(server: str, template: str) -> Iterator[str]:
    name = f"scrapeyard_test_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(server))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield str(make_url(server).set(database=name))
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of the test's backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "scrapeyard.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        pg_template = request.getfixturevalue("postgres_template")
        yield from _fresh_postgres(server, pg_template)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> config.Settings:
    # Uploads, exports and captures go to the test's own folder, never the checkout.
    return config.load_settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
async def store(settings: config.Settings) -> AsyncIterator[JobStore]:
    async with connect.open_store(settings) as opened:
        yield opened
