"""Schema migrations, shipped inside the package and applied with Alembic.

A SQLite file is upgraded automatically when scrapeyard opens it (it belongs to one
machine). A PostgreSQL database is shared by many hosts, so an upgrade there is an
explicit step (``scrapeyard db upgrade``); opening an out-of-date one is refused.

Checking the schema needs no Alembic: the revision is one row, and ``HEAD`` names the
newest migration (a test keeps it equal to Alembic's head). Alembic, which is large, is
imported only to upgrade, so worker processes stay lean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue import database

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0009"
"""The newest migration in ``migrations/versions``."""
UPGRADE_COMMAND = "scrapeyard db upgrade"
# Any fixed number works; it only has to be the same in every scrapeyard process.
_PG_MIGRATION_LOCK = 0x5C4A9E


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "scrapeyard.queue:migrations")
    return cfg


def head_revision() -> str:
    """The head according to Alembic's scripts (``HEAD`` must match it)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _current(sync_conn: sa.Connection) -> str | None:
    if not sa.inspect(sync_conn).has_table("alembic_version"):
        return None
    rows = sync_conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if rows else None


async def current_revision(db: database.Database) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    async with db.read() as conn:
        return await conn.run_sync(_current)


async def upgrade(db: database.Database, revision: str = "head") -> None:
    """Apply pending migrations up to ``revision``; concurrent callers take turns."""
    from alembic import command

    def run(sync_conn: sa.Connection, *_: Any) -> None:
        if sync_conn.dialect.name == "postgresql":
            sync_conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.write() as conn:
        await conn.run_sync(run)


async def ensure_schema(db: database.Database) -> None:
    """Make sure the schema is current: upgrade SQLite, refuse an old PostgreSQL."""
    current = await current_revision(db)
    if current == HEAD:
        return
    if db.is_sqlite:
        await upgrade(db)
        return
    if current is None:
        raise errors.SchemaOutOfDate(
            f"the database at {db.url} has no scrapeyard tables yet; "
            f"run `{UPGRADE_COMMAND}` to create them"
        )
    if current not in known_revisions():
        raise errors.SchemaOutOfDate(
            f"the database at {db.url} is at revision {current}, which this version of "
            "scrapeyard does not know; it was upgraded by a newer scrapeyard"
        )
    raise errors.SchemaOutOfDate(
        f"the database at {db.url} is at revision {current}, but this version of "
        f"scrapeyard needs {HEAD}; run `{UPGRADE_COMMAND}`"
    )
