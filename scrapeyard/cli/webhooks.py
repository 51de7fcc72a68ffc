"""``scrapeyard webhooks``: subscribe URLs to events, list and remove subscriptions.

``webhooks add`` prints the signing secret alone on stdout, so scripts can capture it
(``SECRET=$(scrapeyard webhooks add https://example.com/hook --event job.failed)``);
what it means goes to stderr. The secret is never shown again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from scrapeyard import errors
from scrapeyard.cli import common
from scrapeyard.notify import events, signing
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhook_records import ScopeName, Webhook
from scrapeyard.queue.webhooks import WebhookStore

app = typer.Typer(help="Signed webhooks: subscribe URLs to job events.", no_args_is_help=True)


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "-"


def _check_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise errors.InvalidInput("url", "must be an http or https URL")
    return url


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Where to POST the events (http or https).")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            "-e",
            help=f"An event to send (repeat for several): {', '.join(events.EVENTS)}.",
        ),
    ],
    job: Annotated[int | None, typer.Option("--job", help="Only events about this job.")] = None,
    schedule: Annotated[
        int | None, typer.Option("--schedule", help="Only this schedule's events and jobs.")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What it is for.")
    ] = None,
) -> None:
    """Subscribe URL to events and print its signing secret (only the secret, on stdout)."""
    _check_url(url)
    names = events.check_events(event)
    if job is not None and schedule is not None:
        raise errors.InvalidInput("job", "give --job or --schedule, not both")
    scope: ScopeName = "job" if job is not None else "schedule" if schedule else "global"
    scope_id = job if job is not None else schedule
    secret = signing.new_secret()

    async def go(store: JobStore) -> Webhook:
        hooks = WebhookStore(store.db)
        if job is not None and not await hooks.job_exists(job):
            raise errors.JobNotFound(job)
        if schedule is not None and not await hooks.schedule_exists(schedule):
            raise errors.InvalidInput("schedule", f"no schedule {schedule}")
        return await hooks.create(
            url, names, secret, scope=scope, scope_id=scope_id, description=description
        )

    made = common.with_store(common.settings(), go)
    print(secret)
    about = f"{scope} {scope_id}" if scope_id is not None else "every job"
    common.err_console.print(
        f"Created webhook {made.id} for {', '.join(names)} about {about}. The secret above "
        "signs its deliveries (Standard Webhooks); it is shown only this once.",
        highlight=False,
    )


@app.command("list")
def list_webhooks(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List subscriptions (never their secrets)."""

    async def go(store: JobStore) -> list[Webhook]:
        return await WebhookStore(store.db).list_webhooks()

    found = common.with_store(common.settings(), go)
    if as_json:
        common.print_json([hook.to_json() for hook in found])
        return
    table = Table("id", "url", "events", "scope", "created", "state")
    for hook in found:
        scope = hook.scope if hook.scope_id is None else f"{hook.scope} {hook.scope_id}"
        table.add_row(
            str(hook.id),
            hook.url,
            ", ".join(hook.events),
            scope,
            _when(hook.created_at),
            "active" if hook.active else "[red]inactive[/]",
        )
    common.console.print(table)


@app.command("remove")
def remove(
    webhook_id: Annotated[int, typer.Argument(help="The webhook's id (see webhooks list).")],
) -> None:
    """Remove a subscription and its delivery log; nothing more is sent to it."""

    async def go(store: JobStore) -> bool:
        return await WebhookStore(store.db).delete(webhook_id)

    if not common.with_store(common.settings(), go):
        raise errors.InvalidInput("webhook", f"no webhook {webhook_id}")
    common.console.print(f"removed webhook {webhook_id}")
