"""``scrapeyard jobs``: enqueue, inspect, cancel and retry jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from scrapeyard import config, errors
from scrapeyard.cli import common
from scrapeyard.queue.jobs import Job, JobSpec, JobStatus
from scrapeyard.queue.queries import JobFilter
from scrapeyard.queue.store import JobStore

app = typer.Typer(help="Enqueue, list, inspect, cancel and retry jobs.", no_args_is_help=True)

MAX_BULK = 1_000_000
BULK_CHUNK = 5000


def parse_payload(text: str | None) -> dict[str, Any]:
    """A JSON object from the command line, or a clear error naming ``payload``."""
    if text is None:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise errors.InvalidInput("payload", f"is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise errors.InvalidInput("payload", f"must be a JSON object, not {type(value).__name__}")
    return value


def parse_delay(text: str | None) -> float | None:
    """Seconds (``90``) or a duration (``15m``); negative values are refused."""
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            return config.parse_duration(text)
        except ValueError as exc:
            raise errors.InvalidInput("delay", str(exc)) from None
    if seconds < 0:
        raise errors.InvalidInput("delay", "must not be negative")
    return seconds


@app.command("enqueue")
def enqueue(
    kind: Annotated[str, typer.Argument(help="Job kind, e.g. noop.")],
    payload: Annotated[
        str | None, typer.Option("--payload", "-p", help="JSON object passed to the job.")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Queue name.")] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", help="-1000..1000; higher runs first.")
    ] = None,
    delay: Annotated[
        str | None, typer.Option("--delay", help="Run after this many seconds (or 15m, 2h).")
    ] = None,
    unique_key: Annotated[
        str | None,
        typer.Option("--unique-key", help="While a job with this key is unfinished, reuse it."),
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option("--max-attempts", help="Attempts before failing for good.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds the job may run.")
    ] = None,
    count: Annotated[
        int, typer.Option("--count", "-n", help="Enqueue this many copies, in bulk.")
    ] = 1,
    depends_on: Annotated[
        list[int] | None,
        typer.Option("--depends-on", help="Wait for this job to succeed first (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job(s) as JSON.")] = False,
) -> None:
    """Enqueue a job (or --count copies in one round trip); prints the job id(s)."""
    if not 1 <= count <= MAX_BULK:
        raise errors.InvalidInput("count", f"must be between 1 and {MAX_BULK}")
    spec = JobSpec(
        kind,
        parse_payload(payload),
        queue=queue,
        priority=priority,
        delay=parse_delay(delay),
        max_attempts=max_attempts,
        timeout=timeout,
        unique_key=unique_key,
        depends_on=tuple(depends_on or ()),
    )
    loaded = common.settings()

    async def go(store: JobStore) -> list[int]:
        if count == 1:
            return [(await store.enqueue(spec)).id]
        ids: list[int] = []
        for start in range(0, count, BULK_CHUNK):
            ids += await store.enqueue_many([spec] * min(BULK_CHUNK, count - start))
        return ids

    ids = common.with_store(loaded, go)
    if as_json:
        jobs = common.with_store(loaded, lambda store: store.get_many(ids[:1000]))
        common.print_json([jobs[i].to_json() for i in ids[:1000] if i in jobs])
        return
    for job_id in ids:
        print(job_id)
    if count > 1:
        common.err_console.print(f"enqueued {count} {kind} jobs", highlight=False)


def _step(text: str, index: int) -> JobSpec:
    kind, _, payload = text.partition(":")
    try:
        return JobSpec(kind.strip(), parse_payload(payload) if payload else {})
    except errors.InvalidInput as exc:
        raise errors.InvalidInput(f"steps[{index}].{exc.field}", exc.problem) from None


@app.command("chain")
def chain(
    steps: Annotated[
        list[str],
        typer.Argument(help="KIND or KIND:JSON for each step, first to last."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the jobs as JSON.")] = False,
) -> None:
    """Enqueue jobs that run one after another; prints their ids.

    Each waits for the one before it; if one fails for good, the rest are cancelled.
    Example: scrapeyard jobs chain 'crawl:{"url": "https://example.com/"}' export
    """
    specs = [_step(text, index) for index, text in enumerate(steps)]
    chained = common.with_store(common.settings(), lambda store: store.enqueue_chain(specs))
    if as_json:
        common.print_json([job.to_json() for job in chained])
        return
    for job in chained:
        print(job.id)


def _statuses(text: str | None) -> list[JobStatus]:
    if not text:
        return []
    statuses = []
    for name in text.split(","):
        try:
            statuses.append(JobStatus(name.strip()))
        except ValueError:
            choices = ", ".join(s.value for s in JobStatus)
            raise errors.InvalidInput("status", f"{name!r} is not one of {choices}") from None
    return statuses


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _error_line(job: Job) -> str:
    if not job.error:
        return ""
    return f"{job.error.get('type', '')}: {job.error.get('message', '')}"[:80]


@app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Status(es), comma-separated.")
    ] = None,
    queue: Annotated[str | None, typer.Option("--queue", "-q", help="Only this queue.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Jobs per page (1-1000).")] = 50,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue from a previous page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List jobs, newest first."""
    where = JobFilter(status=_statuses(status), queue=queue, kind=kind)
    page = common.with_store(
        common.settings(), lambda store: store.list_jobs(where, limit=limit, cursor=cursor)
    )
    if as_json:
        common.print_json(
            {"jobs": [job.to_json() for job in page.jobs], "next_cursor": page.next_cursor}
        )
        return
    table = Table("id", "kind", "queue", "status", "prio", "attempts", "created", "error")
    for job in page.jobs:
        table.add_row(
            str(job.id),
            job.kind,
            job.queue,
            str(job.status),
            str(job.priority),
            f"{job.attempts}/{job.max_attempts}",
            _when(job.created_at),
            _error_line(job),
        )
    common.console.print(table)
    if page.next_cursor:
        common.console.print(f"more: --cursor {page.next_cursor}", highlight=False)


@app.command("show")
def show(
    job_id: Annotated[int, typer.Argument(help="Job id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one job with its event history."""

    async def go(store: JobStore) -> dict[str, Any]:
        job = await store.get(job_id)
        events = await store.events(job_id)
        return {**job.to_json(), "events": [event.to_json() for event in events]}

    data = common.with_store(common.settings(), go)
    if as_json:
        common.print_json(data)
        return
    for key in ("id", "kind", "queue", "status", "priority", "attempts", "max_attempts"):
        common.console.print(f"[bold]{key}[/]: {data[key]}", highlight=False)
    for key in ("run_at", "created_at", "started_at", "finished_at"):
        value = data[key]
        shown = _when(datetime.fromisoformat(value)) if value else "-"
        common.console.print(f"[bold]{key}[/]: {shown}", highlight=False)
    common.console.print("[bold]payload[/]:", orjson.dumps(data["payload"]).decode())
    if data["progress"]:
        common.console.print("[bold]progress[/]:", orjson.dumps(data["progress"]).decode())
    if data["result"] is not None:
        common.console.print("[bold]result[/]:", orjson.dumps(data["result"]).decode()[:2000])
    if data["error"]:
        error = data["error"]
        common.console.print(
            f"[bold]error[/]: {error.get('type')}: {error.get('message')}", highlight=False
        )
    table = Table("at", "event", "attempt", "worker", "message", title="history")
    for event in data["events"]:
        table.add_row(
            _when(datetime.fromisoformat(event["at"])),
            event["type"],
            str(event["attempt"]),
            event["worker"] or "",
            (event["message"] or "")[:100],
        )
    common.console.print(table)


@app.command("cancel")
def cancel(job_id: Annotated[int, typer.Argument(help="Job id.")]) -> None:
    """Cancel a job: at once if waiting; a running one stops within one heartbeat."""
    job = common.with_store(common.settings(), lambda store: store.cancel(job_id))
    if job.status is JobStatus.CANCELLED:
        common.console.print(f"job {job.id} cancelled")
    else:
        common.console.print(f"job {job.id} is running; its worker was asked to stop it")


@app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="Job id.")]) -> None:
    """Queue a failed or cancelled job again, with fresh attempts."""
    job = common.with_store(common.settings(), lambda store: store.retry(job_id))
    common.console.print(f"job {job.id} queued again")


@app.command("counts")
def counts(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {status: count} over all queues as JSON.")
    ] = False,
) -> None:
    """Count jobs by status, per queue."""

    async def go(store: JobStore) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        return await store.counts(), await store.status_counts()

    by_queue, totals = common.with_store(common.settings(), go)
    if as_json:
        common.print_json(totals)
        return
    statuses = [status.value for status in JobStatus]
    table = Table("queue", *statuses)
    for name, by_status in sorted(by_queue.items()):
        table.add_row(name, *(str(by_status.get(status, 0)) for status in statuses))
    table.add_row("[bold]all[/]", *(f"[bold]{totals[status]}[/]" for status in statuses))
    common.console.print(table)
