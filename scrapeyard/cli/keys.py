"""``scrapeyard keys``: create, list and revoke API keys.

``keys create`` prints the key alone on stdout, so scripts can capture it
(``KEY=$(scrapeyard keys create --name ci --scope write)``); what it means goes to
stderr. The key is never shown again: only its hash is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from scrapeyard import config, errors
from scrapeyard.cli import common
from scrapeyard.queue import database, keys, migrate

T = TypeVar("T")

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


def _with_keys(loaded: config.Settings, action: Callable[[keys.KeyStore], Awaitable[T]]) -> T:
    async def go() -> T:
        db = database.open_database(loaded.database_url, pool_size=1)
        try:
            await migrate.ensure_schema(db)
            return await action(keys.KeyStore(db))
        finally:
            await db.dispose()

    return common.run(go())


def _expiry(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        seconds = config.parse_duration(text)
    except ValueError as exc:
        raise errors.InvalidInput("expires", str(exc)) from None
    if seconds <= 0:
        raise errors.InvalidInput("expires", "must be a positive duration such as 30d")
    return seconds


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. ci.")],
    scope: Annotated[
        str, typer.Option("--scope", help="read (see), write (also change jobs) or admin.")
    ],
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Stop working after this long: 12h, 30d, ..."),
    ] = None,
) -> None:
    """Create a key and print it (only the key, on stdout). It is shown only once."""
    lifetime = _expiry(expires)
    made = _with_keys(
        common.settings(), lambda store: store.create(name, scope, expires_in=lifetime)
    )
    print(made.secret)
    until = f", expires {_when(made.key.expires_at)}" if made.key.expires_at else ""
    common.err_console.print(
        f"Created API key {made.key.id} {made.key.name!r} (scope {made.key.scope}{until}). "
        "It is shown only this once: store it now. Send it as 'Authorization: Bearer KEY'.",
        highlight=False,
    )


@app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List keys (never their secrets): prefix, name, scope, dates and state."""
    found = _with_keys(common.settings(), lambda store: store.list())
    if as_json:
        common.print_json([key.to_json() for key in found])
        return
    table = Table("id", "prefix", "name", "scope", "created", "expires", "last used", "state")
    for key in found:
        state = str(key.state) if key.active else f"[red]{key.state}[/]"
        table.add_row(
            str(key.id),
            f"{key.prefix}...",
            key.name,
            str(key.scope),
            _when(key.created_at),
            _when(key.expires_at),
            _when(key.last_used_at),
            state,
        )
    common.console.print(table)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id or name (see keys list).")],
) -> None:
    """Revoke a key: requests made with it are refused from now on, on every host."""

    async def go(store: keys.KeyStore) -> tuple[keys.ApiKey, bool]:
        found = await store.find(key)
        return await store.revoke(found.id), found.state is keys.KeyState.REVOKED

    revoked, already = _with_keys(common.settings(), go)
    what = f"key {revoked.id} {revoked.name!r} ({revoked.prefix}...)"
    common.console.print(f"{what} was already revoked" if already else f"revoked {what}")
