"""``scrapeyard schedules``: recurring jobs on a cron expression or an interval.

``add`` takes the kind and, for ``crawl`` and ``scrape``, the same arguments and flags
as those commands (``schedules add --cron "0 6 * * *" crawl https://example.com
--max-pages 500``); other kinds take ``--payload JSON``. Workers fire due schedules, so
a schedule runs while at least one ``scrapeyard worker`` is up.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from scrapeyard import errors
from scrapeyard.cli import common
from scrapeyard.cli import crawl as crawl_command
from scrapeyard.cli.jobs import parse_payload
from scrapeyard.queue import schedules, timing
from scrapeyard.queue.store import JobStore

app = typer.Typer(
    help="Recurring jobs: add, list, show, pause, resume and remove schedules.",
    no_args_is_help=True,
)

TERMINAL_ONLY = {
    "output": "--output",
    "detach": "--detach",
    "resume": "--resume",
    "allow_network": "--allow-network",
}
"""Flags of ``crawl``/``scrape`` that steer a run in the terminal, not a scheduled job."""

_EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def _command(function: Any) -> Any:
    """The command-line parser of a command function, to read its flags elsewhere."""
    single = typer.Typer()
    single.command()(function)
    return typer.main.get_command(single)


def _crawl_like(kind: str, args: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload, and any ``--queue``/``--priority``, from a crawl's or scrape's args."""
    function = crawl_command.crawl if kind == "crawl" else crawl_command.scrape
    builder: Callable[..., dict[str, Any]] = (
        crawl_command.crawl_payload if kind == "crawl" else crawl_command.scrape_payload
    )
    try:
        context = _command(function).make_context(kind, list(args))
    except typer.TyperException as exc:  # the parser's usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise errors.InvalidInput(kind, message) from None
    params: dict[str, Any] = {
        name: (list(value) or None) if isinstance(value, tuple) else value
        for name, value in context.params.items()
    }
    for name, flag in TERMINAL_ONLY.items():
        if params.get(name):
            raise errors.InvalidInput(
                flag, f"steers a {kind} run in the terminal; a scheduled {kind} cannot use it"
            )
    if kind == "crawl" and not params.get("url"):
        raise errors.InvalidInput("url", "a scheduled crawl needs a start URL")
    wanted = inspect.signature(builder).parameters
    rendering = inspect.signature(crawl_command.render_payload).parameters
    payload = builder(
        **{name: value for name, value in params.items() if name in wanted},
        rendering=crawl_command.render_payload(
            **{name: value for name, value in params.items() if name in rendering}
        ),
    )
    placement = {name: params.get(name) for name in ("queue", "priority")}
    return payload, placement


def _template(
    kind: str, args: list[str], payload: str | None, queue: str | None, priority: int | None
) -> schedules.JobTemplate:
    if kind in ("crawl", "scrape"):
        if payload is not None:
            raise errors.InvalidInput(
                "payload", f"give a {kind}'s options as its flags, e.g. URL --max-pages 100"
            )
        body, placement = _crawl_like(kind, args)
        queue = queue or placement.get("queue")
        priority = priority if priority is not None else placement.get("priority")
    else:
        if args:
            raise errors.InvalidInput(
                "args", f"{' '.join(args)!r}: a {kind} job takes its payload as --payload JSON"
            )
        body = parse_payload(payload)
    return schedules.JobTemplate(kind, body, queue=queue, priority=priority)


def _timing(cron: str | None, tz: str, every: str | None) -> timing.Timing:
    if (cron is None) == (every is None):
        raise errors.InvalidInput("cron", "give either --cron EXPRESSION or --every INTERVAL")
    if cron is not None:
        return timing.Timing(cron=timing.check_cron(cron), timezone=tz)
    return timing.Timing(interval=timing.parse_every(every or ""), timezone=tz)


async def _find(store: schedules.ScheduleStore, which: str) -> schedules.Schedule:
    return await store.get(int(which) if which.isdigit() else which)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _print(schedule: schedules.Schedule, fires: list[schedules.Fire]) -> None:
    out = common.console
    state = "paused" if schedule.paused else "active"
    out.print(f"schedule {schedule.id} {schedule.name!r} ({state})", highlight=False)
    out.print(f"  fires     {schedule.timing.describe()}", highlight=False)
    out.print(
        f"  job       {schedule.job.kind} {orjson.dumps(schedule.job.payload).decode()}",
        highlight=False,
    )
    if schedule.job.queue or schedule.job.priority is not None:
        out.print(
            f"  queue     {schedule.job.queue or '-'}  priority {schedule.job.priority or 0}",
            highlight=False,
        )
    out.print(f"  missed    {schedule.missed}   overlap {schedule.overlap}", highlight=False)
    upcoming = schedule.upcoming()
    out.print("  next      " + (", ".join(_when(t) for t in upcoming) or "-") + " (UTC)")
    if fires:
        out.print("  last runs")
        for fire in fires:
            job = f"job {fire.job_id} ({fire.job_status or 'purged'})" if fire.job_id else ""
            out.print(
                f"    {_when(fire.fire_at)}  {fire.outcome:<8}  {job}{fire.error or ''}",
                highlight=False,
            )


@app.command("add", context_settings=_EXTRA_ARGS)
def add(
    context: typer.Context,
    kind: Annotated[str, typer.Argument(help="Job kind: crawl, scrape, noop, export...")],
    cron: Annotated[
        str | None, typer.Option("--cron", help='Cron expression, e.g. "0 6 * * *".')
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone of --cron, e.g. Europe/Berlin.")] = (
        "UTC"
    ),
    every: Annotated[
        str | None, typer.Option("--every", help="Interval instead: 90s, 15m, 2h, 1d, 1h30m.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Unique name; default: made from the kind.")
    ] = None,
    payload: Annotated[
        str | None, typer.Option("--payload", help="JSON payload (kinds other than crawl).")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Queue for the jobs.")] = None,
    priority: Annotated[int | None, typer.Option("--priority", help="Higher runs first.")] = None,
    missed: Annotated[
        str, typer.Option("--missed", help="After downtime: skip, or run_once for the latest.")
    ] = "skip",
    overlap: Annotated[
        str, typer.Option("--overlap", help="While the last job runs: skip, or allow another.")
    ] = "skip",
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the schedule as JSON.")] = False,
) -> None:
    """Add a schedule that enqueues a KIND job at each fire time; prints its id.

    Crawl and scrape take their usual arguments after the kind:

      scrapeyard schedules add --every 10s noop

      scrapeyard schedules add --cron "0 6 * * *" --tz Europe/Berlin crawl
      https://example.com --max-pages 500
    """
    template = _template(kind, list(context.args), payload, queue, priority)
    spec = schedules.ScheduleSpec(
        name or _default_name(template, cron, every),
        _timing(cron, tz, every),
        template,
        missed=missed,  # type: ignore[arg-type]  # checked by ScheduleSpec
        overlap=overlap,  # type: ignore[arg-type]
        paused=paused,
    )

    async def go(store: JobStore) -> schedules.Schedule:
        return await schedules.ScheduleStore(store).create(spec)

    created = common.with_store(common.settings(), go)
    if as_json:
        common.print_json(created.to_json())
        return
    print(created.id)
    upcoming = created.upcoming(1)
    first = f"; first fire {_when(upcoming[0])} UTC" if upcoming else ""
    common.err_console.print(
        f"schedule {created.name!r} fires {created.timing.describe()}{first}", highlight=False
    )


def _default_name(template: schedules.JobTemplate, cron: str | None, every: str | None) -> str:
    subject = template.payload.get("url") or (template.payload.get("urls") or [None])[0]
    when = f"every {every}" if every else cron
    base = f"{template.kind} {subject} {when}" if subject else f"{template.kind} {when}"
    return base[:100]


@app.command("list")
def list_schedules(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every schedule: when it fires next, its last fire, its job."""

    async def go(store: JobStore) -> list[schedules.Schedule]:
        return await schedules.ScheduleStore(store).list_schedules()

    found = common.with_store(common.settings(), go)
    if as_json:
        common.print_json([schedule.to_json() for schedule in found])
        return
    if not found:
        common.err_console.print("no schedules; add one with: scrapeyard schedules add")
        return
    table = Table("id", "name", "fires", "job", "next (UTC)", "last job", "state")
    for schedule in found:
        table.add_row(
            str(schedule.id),
            schedule.name,
            schedule.timing.describe(),
            schedule.job.kind,
            "-" if schedule.paused else _when(schedule.next_fire_at),
            str(schedule.last_job_id or "-"),
            "paused" if schedule.paused else "active",
        )
    common.console.print(table)


Which = Annotated[str, typer.Argument(help="The schedule's id or name.")]


@app.command("show")
def show(
    which: Which,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A schedule, its next five fire times and its last runs."""

    async def go(store: JobStore) -> tuple[schedules.Schedule, list[schedules.Fire]]:
        scheduled = schedules.ScheduleStore(store)
        found = await _find(scheduled, which)
        return found, await scheduled.fires(found.id, limit=10)

    found, fires = common.with_store(common.settings(), go)
    if as_json:
        common.print_json({**found.to_json(), "last_runs": [fire.to_json() for fire in fires]})
        return
    _print(found, fires)


def _change(which: str, paused: bool) -> schedules.Schedule:
    async def go(store: JobStore) -> schedules.Schedule:
        scheduled = schedules.ScheduleStore(store)
        found = await _find(scheduled, which)
        return await scheduled.update(found.id, schedules.ScheduleChanges(paused=paused))

    return common.with_store(common.settings(), go)


@app.command("pause")
def pause(which: Which) -> None:
    """Stop firing the schedule until it is resumed."""
    changed = _change(which, True)
    common.err_console.print(f"schedule {changed.name!r} paused", highlight=False)


@app.command("resume")
def resume(which: Which) -> None:
    """Fire the schedule again, from its next fire time after now."""
    changed = _change(which, False)
    upcoming = changed.upcoming(1)
    common.err_console.print(
        f"schedule {changed.name!r} resumed; next fire {_when(upcoming[0])} UTC",
        highlight=False,
    )


@app.command("remove")
def remove(which: Which) -> None:
    """Delete the schedule and its fire history; the jobs it made stay."""

    async def go(store: JobStore) -> schedules.Schedule:
        scheduled = schedules.ScheduleStore(store)
        found = await _find(scheduled, which)
        await scheduled.delete(found.id)
        return found

    removed = common.with_store(common.settings(), go)
    common.err_console.print(f"schedule {removed.name!r} removed", highlight=False)
