"""Schema migrations, shipped inside the package and applied with Alembic.

A SQLite file is upgraded automatically when scrapeyard opens it (it belongs to one
machine). A PostgreSQL database is shared by many hosts, so an upgrade there is an
explicit step (``scrapeyard db upgrade``); opening an out-of-date one is refused.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from scrapeyard import errors
from scrapeyard.queue import database

UPGRADE_COMMAND = "scrapeyard db upgrade"
# Any fixed number works; it only has to be the same in every scrapeyard process.
_PG_MIGRATION_LOCK = 0x5C4A9E


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "scrapeyard.queue:migrations")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(sync_conn: sa.Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def current_revision(db: database.Database) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    try:
        async with db.read() as conn:
            return await conn.run_sync(_current)
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        raise database.unavailable(db.url, exc) from exc


async def upgrade(db: database.Database, revision: str = "head") -> None:
    """Apply pending migrations up to ``revision``; concurrent callers take turns."""

    def run(sync_conn: sa.Connection, *_: Any) -> None:
        if sync_conn.dialect.name == "postgresql":
            sync_conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    try:
        async with db.write() as conn:
            await conn.run_sync(run)
    except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise database.unavailable(db.url, exc) from exc


async def ensure_schema(db: database.Database) -> None:
    """Make sure the schema is current: upgrade SQLite, refuse an old PostgreSQL."""
    current = await current_revision(db)
    head = head_revision()
    if current == head:
        return
    if db.is_sqlite:
        await upgrade(db)
        return
    if current is None:
        raise errors.SchemaOutOfDate(
            f"the database at {db.url} has no scrapeyard tables yet; "
            f"run `{UPGRADE_COMMAND}` to create them"
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise errors.SchemaOutOfDate(
            f"the database at {db.url} is at revision {current}, which this version of "
            "scrapeyard does not know; it was upgraded by a newer scrapeyard"
        )
    raise errors.SchemaOutOfDate(
        f"the database at {db.url} is at revision {current}, but this version of "
        f"scrapeyard needs {head}; run `{UPGRADE_COMMAND}`"
    )
