"""``scrapeyard db``: schema migrations."""

from __future__ import annotations

import typer

from scrapeyard.cli import common
from scrapeyard.queue import database, migrate

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations (needed once per release on PostgreSQL; SQLite is automatic)."""
    loaded = common.settings()

    async def go() -> tuple[str | None, str | None]:
        db = database.open_database(loaded.database_url, pool_size=1)
        try:
            before = await migrate.current_revision(db)
            await migrate.upgrade(db)
            return before, await migrate.current_revision(db)
        finally:
            await db.dispose()

    before, after = common.run(go())
    url = database.redact(loaded.database_url)
    if before == after:
        common.console.print(f"{url} is up to date (revision {after}).", highlight=False)
    else:
        common.console.print(
            f"{url} upgraded from revision {before or 'none'} to {after}.", highlight=False
        )


@app.command("current")
def current() -> None:
    """Print the schema revision of the database and the one this version needs."""
    loaded = common.settings()

    async def go() -> str | None:
        db = database.open_database(loaded.database_url, pool_size=1)
        try:
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    revision = common.run(go())
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"needs `{migrate.UPGRADE_COMMAND}`"
    common.console.print(f"database: {revision or 'empty'}; required: {head} ({state})")
