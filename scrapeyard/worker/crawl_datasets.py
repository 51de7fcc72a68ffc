"""Putting a scrape's or crawl's pages into a dataset, once the crawl is done.

This is a step after the crawl, not part of the engine: the job's stored page records
(those fetched successfully) are read back in batches, mapped to dataset fields
(``datasets.mapping``), and fed to the dataset as one run (``worker.ingest``). A crawl
is a full run by default, so records of pages it no longer found are stamped ``gone``;
a scrape is not.
"""

from __future__ import annotations

import contextlib
from typing import Any

from scrapeyard import exports
from scrapeyard.datasets import mapping, spec
from scrapeyard.queue.crawls import CrawlStore
from scrapeyard.worker import ingest
from scrapeyard.worker.context import JobContext


async def ingest_pages(ctx: JobContext, mode: str, option: object) -> dict[str, Any]:
    """Feed the job's page records into the dataset its ``dataset`` option names; the
    run's summary (with the dataset's name)."""
    target = spec.parse_target(option, mode)
    opened = await ingest.open_dataset(
        ctx.db,
        target.name,
        target.settings,
        job_id=ctx.job.id,
        defaults={"key": list(spec.default_key(list(target.fields or {}) or None))},
    )
    if opened.done is not None:
        return {"name": target.name, **opened.done.to_json()}
    run = await ingest.Ingestion.begin(
        ctx.store, opened, job_id=ctx.job.id, source=mode, full=target.full
    )
    crawls = CrawlStore(ctx.db)
    try:
        after = 0
        while rows := await crawls.pages_after(ctx.job.id, after, ingest.BATCH, ok=True):
            after = rows[-1]["id"]
            for row in rows:
                record = exports.record(row)
                await run.add(
                    mapping.from_page(record, target.fields),
                    source=record,
                    base_url=record.get("final_url") or record["url"],
                )
            ctx.raise_if_cancelled()
        summary = await run.commit()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await run.fail(f"{type(exc).__name__}: {exc}")
        raise
    return {"name": target.name, **summary.to_json()}
