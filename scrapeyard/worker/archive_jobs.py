"""Retention: records a dataset has not seen for its ``retention`` are archived, then
removed.

The ``dataset.archive`` job kind (payload ``{"dataset": "leads"}``, or ``{}`` for every
dataset with a retention) writes the expired records as gzipped JSON lines
(``shapes.record``) to ``archives/<dataset>/<UTC time>-<job id>-<n>.jsonl.gz`` under
``data_dir``, at most ``FILE_RECORDS`` to a file. Only once a file is complete and on
disk are its records deleted, and only those still expired then: a record seen again
in the meantime stays. A crash in between archives some records twice, never loses one.

Every worker runs the ``datasets`` maintenance unit hourly: it enqueues an archive job
for each dataset that has expired records (one at a time per dataset, by unique key)
and drops runs whose job died before it could end them. A schedule can run the kind
too.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from scrapeyard import errors
from scrapeyard.datasets import files, shapes
from scrapeyard.queue.dataset_runs import RunStore
from scrapeyard.queue.datasets import DatasetStore
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.handlers import job_kind

KIND = "dataset.archive"
FILE_RECORDS = 100_000
BATCH = 1000
STALE_RUN_AGE = 86400.0
"""Seconds after which a run still unfinished is taken for dead."""


def validate(payload: Mapping[str, Any]) -> None:
    unknown = sorted(set(payload) - {"dataset"})
    if unknown:
        raise errors.InvalidInput(unknown[0], "unknown option")
    if "dataset" in payload:
        from scrapeyard.datasets import spec

        spec.check_name(payload["dataset"], "dataset")


async def _archive_file(
    store: DatasetStore, dataset: dict[str, Any], path: Path, after: int
) -> tuple[int, int]:
    """Archive up to ``FILE_RECORDS`` expired records after record ``after`` into
    ``path``; (records removed, last record id looked at), (0, after) when none."""
    retention = float(dataset["retention"])
    ids: list[int] = []
    partial = path.with_name(path.name + ".partial")
    with gzip.GzipFile(partial, "wb", compresslevel=6) as out:
        while len(ids) < FILE_RECORDS:
            limit = min(BATCH, FILE_RECORDS - len(ids))
            rows = await store.expired(dataset["id"], retention, after, limit)
            if not rows:
                break
            after = rows[-1]["id"]
            out.write(b"".join(orjson.dumps(shapes.record(row)) + b"\n" for row in rows))
            ids += [row["id"] for row in rows]
    if not ids:
        partial.unlink()
        return 0, after
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, path)
    removed = 0
    for start in range(0, len(ids), BATCH):
        removed += await store.remove_expired(dataset["id"], ids[start : start + BATCH], retention)
    return removed, after


async def archive(store: DatasetStore, dataset: dict[str, Any], data_dir: Path, tag: str) -> int:
    """Archive and remove the dataset's expired records; how many were removed."""
    if dataset["retention"] is None:
        return 0
    folder = files.inside(data_dir, f"{files.ARCHIVES}/{dataset['name']}", "dataset")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    removed, after, part = 0, 0, 1
    while True:
        path = folder / f"{stamp}-{tag}-{part}.jsonl.gz"
        count, last = await _archive_file(store, dataset, path, after)
        if last == after:
            return removed
        removed, after, part = removed + count, last, part + 1


@job_kind(KIND, validate=validate)
async def archive_datasets(ctx: JobContext) -> dict[str, Any]:
    """Archive and remove dataset records not seen for their dataset's retention."""
    store = DatasetStore(ctx.db)
    name = ctx.job.payload.get("dataset")
    try:
        chosen = [await store.get(name)] if name else await store.list_datasets()
    except errors.DatasetNotFound as exc:
        raise errors.PermanentError(str(exc)) from exc
    removed = {}
    for dataset in chosen:
        count = await archive(store, dataset, ctx.resources.data_dir, f"job{ctx.job.id}")
        if count:
            removed[dataset["name"]] = count
    return {"archived": removed}


async def maintain(jobs: JobStore) -> None:
    """The maintenance unit: enqueue archive jobs where records expired; drop dead runs."""
    store = DatasetStore(jobs.db)
    await RunStore(jobs.db).discard_stale(STALE_RUN_AGE)
    for dataset in await store.list_datasets():
        retention = dataset["retention"]
        if retention is None or not await store.expired(dataset["id"], retention, 0, 1):
            continue
        await jobs.enqueue(
            JobSpec(KIND, {"dataset": dataset["name"]}, unique_key=f"{KIND}:{dataset['name']}")
        )
