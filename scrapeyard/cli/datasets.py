"""``scrapeyard datasets``: list datasets, show one, export its records, remove one."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from scrapeyard import errors
from scrapeyard.cli import common
from scrapeyard.queue.datasets import CHANGES, DatasetStore, RecordFilter
from scrapeyard.queue.store import JobStore
from scrapeyard.worker import exporting

app = typer.Typer(help="List, inspect and export datasets.", no_args_is_help=True)

RUNS_SHOWN = 5
_COUNTS = ("new", "changed", "unchanged", "gone", "rejected", "duplicates")


def _time(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


def _summary(dataset: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": dataset["name"],
        "key": dataset["key"],
        "records": dataset.get("records"),
        "processors": dataset["processors"],
        "region": dataset["region"],
        "retention": dataset["retention"],
        "schema": dataset["schema"],
        "types": dataset["types"],
        "created_at": _time(dataset["created_at"]),
        "updated_at": _time(dataset["updated_at"]),
    }


def _run(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": run["id"],
        "job_id": run["job_id"],
        "source": run["source"],
        "full": run["full"],
        "status": run["status"],
        "received": run["received"],
        **{name: run[name] for name in _COUNTS},
        "error": run["error"],
        "started_at": _time(run["started_at"]),
        "finished_at": _time(run["finished_at"]),
    }


@app.command("list")
def list_datasets(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every dataset: its key, its number of records, when it last changed."""

    async def go(store: JobStore) -> list[dict[str, Any]]:
        return await DatasetStore(store.db).list_datasets()

    found = [_summary(d) for d in common.with_store(common.settings(), go)]
    if as_json:
        common.print_json(found)
        return
    table = Table("name", "key", "records", "updated")
    for item in found:
        key = ", ".join(item["key"]) or "(whole record)"
        table.add_row(item["name"], key, f"{item['records']:,}", item["updated_at"])
    common.console.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The dataset's name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A dataset's settings, its records by state, and its latest runs."""

    async def go(store: JobStore) -> dict[str, Any]:
        datasets = DatasetStore(store.db)
        dataset = await datasets.get(name)
        counts = await datasets.counts(dataset["id"])
        runs = await datasets.runs(dataset["id"], limit=RUNS_SHOWN)
        return {
            **_summary(dataset),
            "records": sum(counts.values()),
            "states": counts,
            "runs": [_run(r) for r in runs],
        }

    found = common.with_store(common.settings(), go)
    if as_json:
        common.print_json(found)
        return
    out = common.console
    out.print(f"[bold]{found['name']}[/]  key: {', '.join(found['key']) or '(whole record)'}")
    out.print(
        f"{found['records']:,} records: "
        + ", ".join(f"{count:,} {state}" for state, count in found["states"].items()),
        highlight=False,
    )
    for label in ("processors", "region", "retention"):
        if found[label]:
            out.print(f"{label}: {found[label]}", highlight=False)
    if found["schema"]:
        out.print("schema: yes")
    table = Table("run", "job", "source", "status", "received", *_COUNTS, "finished")
    for run in found["runs"]:
        table.add_row(
            str(run["id"]),
            str(run["job_id"] or "-"),
            run["source"] + (" (full)" if run["full"] else ""),
            run["status"],
            f"{run['received']:,}",
            *(f"{run[c]:,}" for c in _COUNTS),
            run["finished_at"],
        )
    out.print(table)


async def _write(chunks: AsyncIterator[exporting.Chunk], out: IO[bytes]) -> int:
    written = 0
    async for data, count in chunks:
        out.write(data)
        written += count
    out.flush()
    return written


@app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="The dataset's name.")],
    format: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    changed_only: Annotated[
        bool,
        typer.Option("--changed-only", help="Only what the last run found new, changed or gone."),
    ] = False,
) -> None:
    """Export a dataset's records as JSON lines or CSV (to stdout unless -o)."""
    chosen = exporting.check_format(format)

    async def go(store: JobStore) -> int:
        datasets = DatasetStore(store.db)
        dataset = await datasets.get(name)
        where = RecordFilter()
        if changed_only:
            last = await datasets.last_run(dataset["id"])
            where = RecordFilter(states=CHANGES, run_id=last["id"] if last else 0)
        chunks = exporting.dataset_chunks(datasets, dataset["id"], chosen, where)
        if output is None:
            return await _write(chunks, sys.stdout.buffer)
        try:
            with output.open("wb") as out:
                return await _write(chunks, out)
        except OSError as exc:
            raise errors.InvalidInput("output", f"cannot write {output}: {exc.strerror}") from exc

    written = common.with_store(common.settings(), go)
    if output is not None:
        common.err_console.print(f"wrote {written:,} records to {output}", highlight=False)


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="The dataset's name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a dataset with all its records, runs and rejects."""
    if not yes and not typer.confirm(f"remove dataset {name!r} and all its records?"):
        raise typer.Exit(1)

    async def go(store: JobStore) -> None:
        await DatasetStore(store.db).delete(name)

    common.with_store(common.settings(), go)
    common.err_console.print(f"removed dataset {name!r}", highlight=False)
