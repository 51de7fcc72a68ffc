"""Migrations produce exactly the schema that the table definitions describe."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from scrapeyard import connect, errors
from scrapeyard.queue import database, migrate
from scrapeyard.queue.tables import metadata


@pytest.fixture
async def empty_db(database_url: str) -> AsyncIterator[database.Database]:
    """A database with no tables at all."""
    db = database.open_database(database_url)
    async with db.write() as conn:
        await conn.run_sync(lambda sync: metadata.drop_all(sync))
        await conn.execute(sa.text("DROP TABLE alembic_version"))
    yield db
    await db.dispose()


def _diff(sync_conn: sa.Connection) -> list[object]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_upgrade_creates_exactly_the_declared_schema(empty_db: database.Database) -> None:
    assert await migrate.current_revision(empty_db) is None
    await migrate.upgrade(empty_db)

    assert await migrate.current_revision(empty_db) == migrate.head_revision()
    async with empty_db.read() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_downgrade_to_base_and_back(empty_db: database.Database) -> None:
    await migrate.upgrade(empty_db)

    def downgrade(sync_conn: sa.Connection) -> None:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, "base")

    async with empty_db.write() as conn:
        await conn.run_sync(downgrade)
    async with empty_db.read() as conn:
        tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await migrate.upgrade(empty_db)
    async with empty_db.read() as conn:
        assert await conn.run_sync(_diff) == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_opening_a_sqlite_file_applies_migrations(empty_db: database.Database) -> None:
    url = str(empty_db.engine.url).replace("sqlite+aiosqlite", "sqlite")
    async with connect.open_store(database_url=url) as store:
        assert await store.status_counts()
    assert await migrate.current_revision(empty_db) == migrate.head_revision()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_opening_an_old_postgres_schema_is_refused(empty_db: database.Database) -> None:
    url = empty_db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(errors.SchemaOutOfDate, match="scrapeyard db upgrade"):
        async with connect.open_store(database_url=url):
            pass


def test_head_constant_names_the_newest_migration() -> None:
    assert migrate.HEAD == migrate.head_revision()
