"""The ``import`` job kind: a CSV, JSON lines or JSON array file into a dataset.

The file was stored under ``data_dir`` before the job was enqueued (``POST
/v1/imports`` and ``scrapeyard import`` do that); the payload names it::

    {"dataset": "leads", "file": "uploads/3f2a....csv", "filename": "leads.csv",
     "key": ["email"], "encoding": "latin-1", "delimiter": ";", "format": "csv"}

The file is streamed (``scrapeyard.imports``) through the dataset's pipeline and staged
in batches, with progress in bytes read; then the import replaces the dataset's previous
import in one transaction. A file that cannot be read fails the job permanently with
the line and the reason, and nothing of it is kept. The file is removed once the import
is committed. Besides ``key``, the payload may set any dataset setting (``schema``,
``processors``, ``types``, ``region``, ``retention``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.datasets import files
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.handlers import job_kind

if TYPE_CHECKING:
    from scrapeyard.imports import readers
    from scrapeyard.worker import ingest

IMPORT_TIMEOUT = 86400.0
_READING = frozenset({"dataset", "file", "filename", "format", "encoding", "delimiter"})

# The parsers, the pipeline and what they use (phonenumbers, jsonschema-rs) are imported
# when an import is first validated or run: worker processes that never import stay small.


def read_options(payload: Mapping[str, Any]) -> readers.Options:
    """How to read the file, from the payload."""
    from scrapeyard.imports import readers

    filename = payload.get("filename", "")
    if not isinstance(filename, str) or len(filename) > 500:
        raise errors.InvalidInput("filename", "must be a file name")
    for name in ("format", "encoding", "delimiter"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise errors.InvalidInput(name, "must be a string")
    return readers.Options(
        format=payload.get("format"),
        encoding=payload.get("encoding"),
        delimiter=payload.get("delimiter"),
        filename=filename,
    )


def validate(payload: Mapping[str, Any]) -> None:
    """Refuse a bad ``import`` payload at enqueue time, naming the field."""
    from scrapeyard.datasets import spec

    unknown = sorted(set(payload) - _READING - set(spec.SETTINGS))
    if unknown:
        raise errors.InvalidInput(unknown[0], "unknown option")
    spec.check_name(payload.get("dataset"), "dataset")
    files.check_relative(payload.get("file"), "file", under=files.UPLOADS)
    spec.check_settings(payload)
    read_options(payload)


async def _feed(
    ctx: JobContext, run: ingest.Ingestion, path: Path, options: readers.Options
) -> dict[str, Any]:
    from scrapeyard.imports import readers
    from scrapeyard.worker import ingest

    total = path.stat().st_size
    with path.open("rb") as raw:
        detected = readers.detect_file(raw, options)
        for line, record in readers.rows(raw, detected):
            await run.add(record, line=line)
            if run.received % ingest.BATCH == 0:
                ctx.raise_if_cancelled()
                await ctx.progress(
                    raw.tell(),
                    total,
                    phase="reading",
                    rows=run.received,
                    rejected=run.rejected,
                )
    await ctx.progress(total, total, phase="committing", rows=run.received)
    return {
        "format": detected.format,
        "encoding": detected.encoding,
        **({"delimiter": detected.delimiter} if detected.delimiter else {}),
    }


@job_kind("import", timeout=IMPORT_TIMEOUT, validate=validate)
async def import_file(ctx: JobContext) -> dict[str, Any]:
    """Import a CSV, JSON lines or JSON array file into a dataset."""
    from scrapeyard.datasets import spec
    from scrapeyard.worker import ingest

    payload = ctx.job.payload
    try:
        validate(payload)
    except errors.InvalidInput as exc:
        raise errors.PermanentError(str(exc)) from exc
    name = payload["dataset"]
    path = files.inside(ctx.resources.data_dir, payload["file"], "file")
    settings = spec.check_settings(payload)
    opened = await ingest.open_dataset(ctx.db, name, settings, job_id=ctx.job.id)
    if opened.done is not None:
        return {"dataset": name, **opened.done.to_json()}
    if not path.is_file():
        raise errors.PermanentError(f"the file to import is gone: {payload['file']}")
    run = await ingest.Ingestion.begin(
        ctx.store, opened, job_id=ctx.job.id, source="import", full=True
    )
    label = payload.get("filename") or path.name
    try:
        read = await _feed(ctx, run, path, read_options(payload))
        summary = await run.commit()
    except errors.MalformedFile as exc:
        await run.fail(str(exc))
        raise errors.PermanentError(f"{label}: {exc}") from exc
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await run.fail(f"{type(exc).__name__}: {exc}")
        raise
    path.unlink(missing_ok=True)
    return {"dataset": name, "file": label, **read, **summary.to_json()}
