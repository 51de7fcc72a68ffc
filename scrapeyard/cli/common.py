"""What every command shares: settings from global options, the store, output helpers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import orjson
from rich.console import Console
from sqlalchemy.engine import make_url

from scrapeyard import config, connect, errors, logs
from scrapeyard.queue.store import JobStore

T = TypeVar("T")

GLOBAL_OPTIONS: dict[str, Any] = {}
"""Filled by the root callback before a subcommand runs."""

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def settings(**overrides: Any) -> config.Settings:
    """Settings with the global options and then the command's own flags applied."""
    options = dict(GLOBAL_OPTIONS)
    config_file = options.pop("config_file", None)
    options.update({key: value for key, value in overrides.items() if value is not None})
    loaded = config.load_settings(config_file, **options)
    logs.configure(loaded.log_level, loaded.log_format, secrets_to_mask=_secrets(loaded))
    return loaded


def _secrets(loaded: config.Settings) -> list[str | None]:
    return [make_url(loaded.database_url).password]


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion: the CLI's one way into async code."""
    return asyncio.run(_as_coroutine(coro))


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def with_store(loaded: config.Settings, action: Callable[[JobStore], Awaitable[T]]) -> T:
    """Open the store, run ``action`` with it, close it."""

    async def go() -> T:
        async with connect.open_store(loaded, pool_size=2) as store:
            return await action(store)

    return run(go())


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def fail(exc: errors.ScrapeyardError) -> NoReturn:
    """Print ``exc`` as one line on stderr and exit: 2 for bad input, 1 otherwise."""
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    sys.exit(2 if isinstance(exc, errors.InvalidInput) else 1)
