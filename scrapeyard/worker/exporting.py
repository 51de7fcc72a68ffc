"""Exports as streams of bytes: a job's page records or a dataset's records, as JSON
lines or CSV, read in batches so that memory stays flat however large the export.

The API streams these to the client; the ``export`` job kind writes them to a file.
A dataset's CSV header lists every data field its records use, in the order they are
first met, so CSV takes one pass over the records to find them and a second to write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from scrapeyard import errors, exports
from scrapeyard.datasets import shapes
from scrapeyard.queue.crawls import CRAWL_KINDS, CrawlStore
from scrapeyard.queue.datasets import DatasetStore, RecordFilter
from scrapeyard.queue.jobs import Job

Chunk = tuple[bytes, int]
"""Encoded records and how many records they hold."""
Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
BATCH = 1000


def check_format(value: object, where: str = "format") -> Format:
    for known in FORMATS:
        if value == known:
            return known
    raise errors.InvalidInput(where, "must be jsonl or csv")


async def dataset_fields(store: DatasetStore, dataset_id: int, where: RecordFilter) -> list[str]:
    """Every data field the selected records use, in the order first met."""
    fields: dict[str, None] = {}
    after = 0
    while rows := await store.records_after(dataset_id, after, BATCH, where):
        after = rows[-1]["id"]
        for row in rows:
            fields.update(dict.fromkeys(row["data"] or {}))
    return list(fields)


async def dataset_chunks(
    store: DatasetStore, dataset_id: int, format: Format, where: RecordFilter
) -> AsyncIterator[Chunk]:
    """The selected records of a dataset, encoded, a batch per chunk."""
    writer = None
    if format == "csv":
        writer = shapes.CsvWriter(await dataset_fields(store, dataset_id, where))
        yield writer.header(), 0
    after = 0
    while rows := await store.records_after(dataset_id, after, BATCH, where):
        after = rows[-1]["id"]
        yield (writer.rows(rows) if writer is not None else shapes.jsonl(rows)), len(rows)


def job_columns(job: Job) -> list[str]:
    """The CSV header for a job's page records: its formats and selectors, and for a
    rendered job how each page was rendered and its captures."""
    if job.kind not in CRAWL_KINDS:
        return exports.csv_columns([], [])
    from scrapeyard.crawl.options import CrawlOptions

    try:
        options = CrawlOptions.from_payload(job.kind, job.payload)
    except errors.InvalidInput:
        return exports.csv_columns([], [])
    return exports.csv_columns(list(options.columns), [field.name for field in options.plan.fields])


async def job_chunks(
    crawls: CrawlStore, job: Job, format: Format, ok: bool | None = True
) -> AsyncIterator[Chunk]:
    """A job's page records (``ok``: fetched, failed, or ``None`` for all), encoded."""
    writer = None
    if format == "csv":
        writer = exports.CsvWriter(job_columns(job))
        yield writer.header(), 0
    after = 0
    while rows := await crawls.pages_after(job.id, after, BATCH, ok=ok):
        after = rows[-1]["id"]
        data = writer.rows(rows) if writer is not None else b"".join(exports.jsonl(rows))
        yield data, len(rows)


async def encoded(chunks: AsyncIterator[Chunk]) -> AsyncIterator[bytes]:
    """Only the bytes of ``chunks`` (for a streamed response)."""
    async for data, _ in chunks:
        yield data
