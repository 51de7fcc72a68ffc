"""Imports: upload a CSV, JSON lines or JSON array file into a dataset, as a job."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from scrapeyard import errors as core_errors
from scrapeyard.api import dataset_schemas as schemas
from scrapeyard.api import errors
from scrapeyard.api.deps import Res, Store, WriteKey
from scrapeyard.api.routers.jobs import with_history
from scrapeyard.datasets import files
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.worker import import_jobs

router = APIRouter(tags=["datasets"], responses=errors.responses(400, 401, 403, 413, 422, 429, 503))

CHUNK = 1024 * 1024
_OPTIONS = frozenset({"schema", "processors", "types", "region", "retention"})


def _options(text: str | None) -> dict[str, Any]:
    """The ``options`` form field: a JSON object of further dataset settings."""
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise core_errors.InvalidInput("options", f"is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise core_errors.InvalidInput("options", "must be a JSON object")
    unknown = sorted(set(value) - _OPTIONS)
    if unknown:
        raise core_errors.InvalidInput(f"options.{unknown[0]}", "unknown option")
    return value


@router.post("/v1/imports", status_code=202, summary="Import a file into a dataset")
async def start_import(
    _key: WriteKey,
    res: Res,
    store: Store,
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="A .csv, .jsonl or .json (array) file.")],
    dataset: Annotated[str, Form(description="The dataset to fill (created if new).")],
    key: Annotated[
        list[str] | None, Form(description="A field identifying a record (repeatable).")
    ] = None,
    format: Annotated[
        str | None, Form(description="`csv`, `jsonl` or `json` (default: detected).")
    ] = None,
    encoding: Annotated[str | None, Form(description="Text encoding (default: detected).")] = None,
    delimiter: Annotated[str | None, Form(description="CSV delimiter (default: detected).")] = None,
    options: Annotated[
        str | None,
        Form(
            description='More dataset settings as JSON: `{"schema", "processors", "types", '
            '"region", "retention"}`.'
        ),
    ] = None,
    queue: Annotated[str | None, Form(max_length=100, description="Queue of the job.")] = None,
) -> schemas.ImportStarted:
    """Store the file, then enqueue an `import` job that streams it into the dataset in
    batches (follow its progress at `status_url`).

    A re-import into the same dataset replaces the records of the previous import in one
    transaction. A file that cannot be read fails the job with the line and the reason,
    and nothing of it is kept.
    """
    payload: dict[str, Any] = {
        "dataset": dataset,
        "file": f"{files.UPLOADS}/-",
        "filename": (file.filename or "upload")[:500],
        **_options(options),
    }
    given = {"key": key, "format": format, "encoding": encoding, "delimiter": delimiter}
    payload.update({name: value for name, value in given.items() if value})
    import_jobs.validate(payload)
    payload["file"] = files.new_upload(payload["filename"])
    target = files.inside(res.settings.data_dir, payload["file"], "file")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("wb") as out:
            while chunk := await file.read(CHUNK):
                out.write(chunk)
        job = await store.enqueue(JobSpec("import", payload, queue=queue))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    base = str(request.base_url).rstrip("/")
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return schemas.ImportStarted(
        job=await with_history(store, job.id),
        status_url=f"{base}/v1/jobs/{job.id}",
        events_url=f"{base}/v1/jobs/{job.id}/events",
        dataset_url=f"{base}/v1/datasets/{dataset}",
    )
