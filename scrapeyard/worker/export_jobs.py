"""The ``export`` job kind: a job's page records or a dataset's records, to a file.

So that a schedule (or a chain: crawl -> export -> notify) can produce files::

    {"dataset": "leads", "format": "csv", "changed_only": true}
    {"job": 42, "format": "jsonl", "include": "all", "path": "exports/site.jsonl.gz"}
    {"job": "previous", "format": "csv"}      # in a chain: the job this one follows

``path`` is relative to the ``data_dir`` setting and must lie under ``exports/``; by
default it is ``exports/<dataset-NAME|job-ID>-<UTC time>-<export job id>.<format>``. A
name ending in ``.gz`` is gzipped. The file is written under a temporary name and
renamed when complete, so a reader never sees half an export; an existing file of that
name is replaced. The result gives the absolute path, the records and bytes written.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from scrapeyard import errors
from scrapeyard.datasets import files
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.queue.datasets import CHANGES, STATES, DatasetStore, RecordFilter
from scrapeyard.worker import exporting
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.handlers import job_kind

PREVIOUS = "previous"
_KEYS = frozenset({"job", "dataset", "format", "path", "changed_only", "states", "include"})
_INCLUDE = {"pages": True, "errors": False, "all": None}


def validate(payload: Mapping[str, Any]) -> None:
    """Refuse a bad ``export`` payload at enqueue time, naming the field."""
    unknown = sorted(set(payload) - _KEYS)
    if unknown:
        raise errors.InvalidInput(unknown[0], "unknown option")
    if ("job" in payload) == ("dataset" in payload):
        raise errors.InvalidInput("job", "give a job id or a dataset name (not both)")
    if "job" in payload:
        job = payload["job"]
        if job != PREVIOUS and (isinstance(job, bool) or not isinstance(job, int) or job < 1):
            raise errors.InvalidInput("job", 'must be a job id, or "previous" in a chain')
        for name in ("changed_only", "states"):
            if name in payload:
                raise errors.InvalidInput(name, "applies to dataset exports only")
        if payload.get("include", "pages") not in _INCLUDE:
            raise errors.InvalidInput("include", "must be pages, errors or all")
    else:
        from scrapeyard.datasets import spec

        spec.check_name(payload["dataset"], "dataset")
        if "include" in payload:
            raise errors.InvalidInput("include", "applies to job exports only")
        if not isinstance(payload.get("changed_only", False), bool):
            raise errors.InvalidInput("changed_only", "must be true or false")
        states = payload.get("states", [])
        if not isinstance(states, list) or not set(states) <= set(STATES):
            raise errors.InvalidInput("states", f"must be a list of {', '.join(STATES)}")
    exporting.check_format(payload.get("format", "jsonl"))
    if "path" in payload:
        files.check_relative(payload["path"], "path", under=files.EXPORTS)


def _default_path(payload: Mapping[str, Any], source: str, job_id: int) -> str:
    if "path" in payload:
        return str(payload["path"])
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{files.EXPORTS}/{source}-{stamp}-{job_id}.{payload.get('format', 'jsonl')}"


async def _source(ctx: JobContext) -> tuple[str, AsyncIterator[exporting.Chunk]]:
    """A name for the export's source, and its bytes."""
    payload = ctx.job.payload
    format = exporting.check_format(payload.get("format", "jsonl"))
    if "dataset" in payload:
        store = DatasetStore(ctx.db)
        dataset = await store.get(payload["dataset"])
        where = RecordFilter(states=tuple(payload.get("states", ())))
        if payload.get("changed_only"):
            last = await store.last_run(dataset["id"])
            run_id = last["id"] if last is not None else 0
            where = RecordFilter(states=where.states or CHANGES, run_id=run_id)
        chunks = exporting.dataset_chunks(store, dataset["id"], format, where)
        return f"dataset-{dataset['name']}", chunks
    job_id = payload["job"]
    if job_id == PREVIOUS:
        before = await ctx.dependencies()
        if not before:
            raise errors.PermanentError('"job": "previous" needs a job this one depends on')
        job = before[-1]
    else:
        job = await ctx.store.get(int(job_id))
    ok = _INCLUDE[payload.get("include", "pages")]
    return f"job-{job.id}", exporting.job_chunks(CrawlStore(ctx.db), job, format, ok)


def _open(path: Path, compressed: bool) -> gzip.GzipFile | io.BufferedWriter:
    if compressed:
        return gzip.GzipFile(path, "wb", compresslevel=6)
    return path.open("wb")


@job_kind("export", validate=validate)
async def export(ctx: JobContext) -> dict[str, Any]:
    """Write a job's page records or a dataset's records to a JSON lines or CSV file."""
    try:
        validate(ctx.job.payload)
        name, chunks = await _source(ctx)
    except (errors.InvalidInput, errors.JobNotFound, errors.DatasetNotFound) as exc:
        raise errors.PermanentError(str(exc)) from exc
    relative = _default_path(ctx.job.payload, name, ctx.job.id)
    target = files.inside(ctx.resources.data_dir, relative, "path")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    records = 0
    try:
        with _open(partial, target.name.endswith(".gz")) as out:
            async for data, count in chunks:
                out.write(data)
                records += count
                ctx.raise_if_cancelled()
                await ctx.progress(records, None, phase="writing")
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return {"path": str(target), "records": records, "bytes": target.stat().st_size}
