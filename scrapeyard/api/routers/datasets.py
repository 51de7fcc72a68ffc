"""Datasets: list and configure them, browse their records, see what changed, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from scrapeyard.api import dataset_schemas as schemas
from scrapeyard.api import errors
from scrapeyard.api.deps import ReadKey, Store, WriteKey
from scrapeyard.datasets import shapes, spec
from scrapeyard.queue import queries
from scrapeyard.queue.datasets import CHANGES, DatasetStore, RecordFilter
from scrapeyard.worker import exporting

router = APIRouter(tags=["datasets"], responses=errors.responses(401, 403, 422, 429, 503))

NamePath = Annotated[
    str, Path(min_length=1, max_length=100, pattern=spec.NAME.pattern, description="Its name.")
]
Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE, description="Records per page.")]
Cursor = Annotated[
    str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
]
States = Annotated[
    list[schemas.State] | None, Query(description="Only records in these states (repeatable).")
]
_FOUND = errors.responses(404)


def _dataset(row: dict[str, Any], records: int) -> dict[str, Any]:
    return {
        "name": row["name"],
        "key": row["key"],
        "json_schema": row["schema"],
        "processors": row["processors"],
        "types": row["types"],
        "region": row["region"],
        "retention": row["retention"],
        "records": records,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _run(row: dict[str, Any]) -> schemas.Run:
    return schemas.Run.model_validate({name: row[name] for name in schemas.Run.model_fields})


def _records(rows: list[dict[str, Any]]) -> list[schemas.DatasetRecord]:
    return [schemas.DatasetRecord.model_validate(shapes.record(row)) for row in rows]


async def _detail(store: DatasetStore, name: str) -> schemas.DatasetDetail:
    row = await store.get(name)
    counts = await store.counts(row["id"])
    runs = await store.runs(row["id"], limit=10)
    return schemas.DatasetDetail.model_validate(
        {
            **_dataset(row, sum(counts.values())),
            "states": counts,
            "runs": [_run(run) for run in runs],
        }
    )


@router.get("/v1/datasets", summary="List datasets")
async def list_datasets(_key: ReadKey, store: Store) -> schemas.DatasetList:
    """Every dataset with its settings and number of records, by name."""
    rows = await DatasetStore(store.db).list_datasets()
    return schemas.DatasetList(
        datasets=[schemas.Dataset.model_validate(_dataset(row, row["records"])) for row in rows]
    )


@router.get("/v1/datasets/{name}", summary="A dataset", responses=_FOUND)
async def show(_key: ReadKey, store: Store, name: NamePath) -> schemas.DatasetDetail:
    """A dataset's settings, its records by state, and its latest runs."""
    return await _detail(DatasetStore(store.db), name)


@router.put(
    "/v1/datasets/{name}",
    summary="Create or configure a dataset",
    responses=errors.responses(400, 409, 413),
)
async def configure(
    _key: WriteKey, store: Store, name: NamePath, body: schemas.DatasetSettings
) -> schemas.DatasetDetail:
    """Create the dataset, or change the settings the body gives (others are kept).

    Its key cannot change once it holds records (`409`).
    """
    given = body.model_dump(by_alias=True, exclude_unset=True)
    datasets = DatasetStore(store.db)
    await datasets.ensure(name, spec.check_settings(given))
    return await _detail(datasets, name)


@router.delete("/v1/datasets/{name}", status_code=204, summary="Remove a dataset", responses=_FOUND)
async def delete(_key: WriteKey, store: Store, name: NamePath) -> None:
    """Remove the dataset with all its records, runs and rejects."""
    await DatasetStore(store.db).delete(name)


@router.get("/v1/datasets/{name}/records", summary="A dataset's records", responses=_FOUND)
async def records(
    _key: ReadKey,
    store: Store,
    name: NamePath,
    state: States = None,
    run: Annotated[
        int | None, Query(ge=1, description="Only records this run gave their state.")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> schemas.DatasetRecordPage:
    """Records in the order they were first stored, page by page."""
    datasets = DatasetStore(store.db)
    row = await datasets.get(name)
    page = await datasets.records(
        row["id"], RecordFilter(states=tuple(state or ()), run_id=run), limit=limit, cursor=cursor
    )
    return schemas.DatasetRecordPage(records=_records(page.records), next_cursor=page.next_cursor)


@router.get("/v1/datasets/{name}/changes", summary="What the last run changed", responses=_FOUND)
async def changes(
    _key: ReadKey, store: Store, name: NamePath, limit: Limit = 100, cursor: Cursor = None
) -> schemas.Changes:
    """The latest run that succeeded, and the records it found new, changed or gone."""
    datasets = DatasetStore(store.db)
    row = await datasets.get(name)
    last = await datasets.last_run(row["id"])
    if last is None:
        return schemas.Changes(run=None, records=[], next_cursor=None)
    where = RecordFilter(states=CHANGES, run_id=last["id"])
    page = await datasets.records(row["id"], where, limit=limit, cursor=cursor)
    return schemas.Changes(
        run=_run(last),
        records=_records(page.records),
        next_cursor=page.next_cursor,
    )


@router.get("/v1/datasets/{name}/runs", summary="A dataset's runs", responses=_FOUND)
async def runs(
    _key: ReadKey,
    store: Store,
    name: NamePath,
    limit: Annotated[int, Query(ge=1, le=50, description="Runs, newest first.")] = 20,
) -> schemas.RunList:
    """The latest runs that fed the dataset, newest first."""
    datasets = DatasetStore(store.db)
    row = await datasets.get(name)
    found = await datasets.runs(row["id"], limit=limit)
    return schemas.RunList(runs=[_run(run) for run in found])


@router.get("/v1/datasets/{name}/rejects", summary="Rows a run refused", responses=_FOUND)
async def rejects(
    _key: ReadKey,
    store: Store,
    name: NamePath,
    run: Annotated[int | None, Query(ge=1, description="The run (default: the latest).")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> schemas.RejectPage:
    """The rows a run set aside (schema violations, missing keys, ...), with the reason
    and, for imports, the line."""
    datasets = DatasetStore(store.db)
    row = await datasets.get(name)
    if run is None:
        latest = await datasets.runs(row["id"], limit=1)
        if not latest:
            return schemas.RejectPage(run_id=None, rejects=[], next_cursor=None)
        run = int(latest[0]["id"])
    found, next_cursor = await datasets.rejects(row["id"], run, limit=limit, cursor=cursor)
    return schemas.RejectPage(
        run_id=run,
        rejects=[
            schemas.Reject(line=item["line"], reason=item["reason"], data=item["data"])
            for item in found
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/datasets/{name}/export",
    summary="Export a dataset",
    response_class=StreamingResponse,
    responses={
        **_FOUND,
        200: {
            "description": "The records, streamed.",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        },
    },
)
async def export(
    _key: ReadKey,
    store: Store,
    name: NamePath,
    format: Annotated[Literal["jsonl", "csv"], Query(description="`jsonl` or `csv`.")] = "jsonl",
    changed_only: Annotated[
        bool, Query(description="Only what the last run found new, changed or gone.")
    ] = False,
    state: States = None,
) -> StreamingResponse:
    """The dataset's records as JSON lines or CSV, streamed in constant memory.

    CSV has the columns `_state`, `_first_seen_at`, `_last_seen_at`, then one per data
    field; cells a spreadsheet would take for formulas are prefixed with `'`.
    """
    datasets = DatasetStore(store.db)
    row = await datasets.get(name)
    where = RecordFilter(states=tuple(state or ()))
    if changed_only:
        last = await datasets.last_run(row["id"])
        where = RecordFilter(states=where.states or CHANGES, run_id=last["id"] if last else 0)
    chunks = exporting.dataset_chunks(datasets, row["id"], format, where)
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        exporting.encoded(chunks),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
