"""``scrapeyard import FILE --dataset NAME``: a CSV, JSON lines or JSON array file into a
dataset, with a progress bar.

The file is copied under ``data_dir/uploads`` (the import job reads it from there and
removes it when done, so the original is never touched) and an ``import`` job is
enqueued on a queue private to this command and run right here, the way ``scrapeyard
crawl`` runs its crawl. With ``--detach`` the job goes to a shared queue for the
workers instead (they must see the same ``data_dir``).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from scrapeyard import config, connect, errors
from scrapeyard.cli import common
from scrapeyard.datasets import files
from scrapeyard.queue.jobs import Job, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import import_jobs, process
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources


def _copy_in(source: Path, data_dir: Path) -> str:
    """Copy ``source`` under ``data_dir/uploads``; its path relative to ``data_dir``."""
    if not source.is_file():
        raise errors.InvalidInput("file", f"no such file: {source}")
    relative = files.new_upload(source.name)
    target = files.inside(data_dir, relative, "file")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise errors.InvalidInput("file", f"cannot copy {source}: {exc.strerror}") from exc
    return relative


async def _run_here(loaded: config.Settings, store: JobStore, job: Job) -> Job:
    """Run the import job in this process with a progress bar; the job afterwards."""
    worker_id = process.new_worker_id()
    worker = process.WorkerProcess(
        store,
        process.WorkerOptions.from_settings(
            loaded, queues=QueueSelector((job.queue,)), concurrency=1, burst=True
        ),
        worker_id=worker_id,
        resources=Resources.from_settings(store, loaded, worker_id=worker_id),
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.request_stop)
    running = asyncio.ensure_future(worker.run())
    console = common.err_console
    bar = Progress(
        TextColumn(f"[bold]import {job.id}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    try:
        with bar:
            task = bar.add_task("import", total=None, rows=0)
            while not running.done():
                progress: dict[str, Any] = (await store.get(job.id)).progress or {}
                bar.update(
                    task,
                    completed=progress.get("done") or 0,
                    total=progress.get("total"),
                    rows=progress.get("rows") or 0,
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.25):
                        await asyncio.shield(running)
        await running
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return await store.get(job.id)


def _report(job: Job) -> None:
    err = common.err_console
    result = job.result if isinstance(job.result, dict) else {}
    if job.status is JobStatus.SUCCEEDED:
        err.print(
            f"imported {result.get('received', 0):,} rows into dataset "
            f"{result.get('dataset')!r}: {result.get('new', 0):,} new, "
            f"{result.get('changed', 0):,} changed, {result.get('unchanged', 0):,} unchanged, "
            f"{result.get('gone', 0):,} removed, {result.get('rejected', 0):,} rejected, "
            f"{result.get('duplicates', 0):,} duplicates",
            highlight=False,
        )
        return
    if job.status in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        err.print(f"stopped; job {job.id} waits on queue {job.queue!r}", highlight=False)
        raise typer.Exit(130)
    message = (job.error or {}).get("message", "")
    err.print(f"[bold red]error:[/] import {job.id} {job.status}: {message}", highlight=False)
    raise typer.Exit(1)


def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv, .jsonl or .json (array) file.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset to fill.")],
    key: Annotated[
        list[str] | None,
        typer.Option("--key", "-k", help="A field identifying a record (repeatable)."),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="CSV delimiter (default: detected).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding (default: detected).")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or json (default: detected).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Default region for phone numbers, e.g. DE.")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Only enqueue; print the job id for workers.")
    ] = False,
    queue: Annotated[str | None, typer.Option("--queue", help="Queue for --detach.")] = None,
) -> None:
    """Import a file into a dataset; a re-import replaces the previous import's records."""
    payload: dict[str, Any] = {"dataset": dataset, "file": "uploads/-", "filename": file.name}
    payload.update(
        {
            name: value
            for name, value in {
                "key": key,
                "delimiter": delimiter,
                "encoding": encoding,
                "format": format,
                "region": region,
            }.items()
            if value is not None
        }
    )
    import_jobs.validate(payload)
    loaded = common.settings(log_level=common.GLOBAL_OPTIONS.get("log_level") or "warning")
    payload["file"] = _copy_in(file, loaded.data_dir)

    async def go() -> Job:
        async with connect.open_store(loaded, pool_size=4) as store:
            chosen = queue if detach else f"cli-{uuid.uuid4().hex[:12]}"
            job = await store.enqueue(JobSpec("import", payload, queue=chosen))
            return job if detach else await _run_here(loaded, store, job)

    try:
        job = common.run(go())
    except BaseException:
        files.inside(loaded.data_dir, payload["file"]).unlink(missing_ok=True)
        raise
    if detach:
        print(job.id)
        common.err_console.print(
            f"enqueued import {job.id} on queue {job.queue!r}; workers serving it will run it",
            highlight=False,
        )
        return
    if job.status is JobStatus.FAILED:
        files.inside(loaded.data_dir, payload["file"]).unlink(missing_ok=True)
    _report(job)
