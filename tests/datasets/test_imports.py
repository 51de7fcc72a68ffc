"""Imports: files of every supported kind into datasets, as jobs; malformed files fail
naming the line and leave nothing behind; a re-import replaces the previous one whole."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue.datasets import DatasetStore
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import dataset_rejects, dataset_staging
from scrapeyard.worker import ingest
from tests.support import datasets

LEADS_CSV = (
    "Firma;E-Mail;Telefon;Umsatz;Website\n"
    "Müller & Söhne GmbH;Info@Mueller.example;030 1234567;1.234,50 EUR;www.mueller.example\n"
    '"Café ""Zur Post""";post@cafe.example;+49 89 7654321;12,99 EUR;cafe.example/home\n'
    "Schön  AG;SCHOEN@Schoen.example;;3.000 EUR;\n"
).encode("latin-1")


async def _leftovers(store: JobStore) -> int:
    """Staged rows and rejects still stored."""
    async with store.db.read() as conn:
        staged = await conn.scalar(sa.select(sa.func.count()).select_from(dataset_staging))
        rejects = await conn.scalar(sa.select(sa.func.count()).select_from(dataset_rejects))
    return int(staged or 0) + int(rejects or 0)


async def test_a_latin1_csv_with_semicolons_is_imported_normalised(
    store: JobStore, data_dir: Path
) -> None:
    upload = datasets.upload(data_dir, LEADS_CSV)
    payload = {
        "dataset": "leads",
        "file": upload,
        "filename": "leads.csv",
        "key": ["E-Mail"],
        "region": "DE",
        "types": {"E-Mail": "email", "Telefon": "phone", "Umsatz": "price", "Website": "url"},
        "processors": ["domain", "country"],
    }
    job = await datasets.run_job(store, "import", payload, data_dir)

    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result == {
        "dataset": "leads",
        "file": "leads.csv",
        "format": "csv",
        "encoding": "latin-1",
        "delimiter": ";",
        "run_id": job.result["run_id"],  # type: ignore[index]
        "received": 3,
        "new": 3,
        "changed": 0,
        "unchanged": 0,
        "gone": 0,
        "rejected": 0,
        "duplicates": 0,
    }
    records = await datasets.records(store, "leads")
    assert records["info@mueller.example"]["data"] == {
        "Firma": "Müller & Söhne GmbH",
        "E-Mail": "info@mueller.example",
        "Telefon": "+49301234567",
        "Umsatz": {"amount": "1234.50", "currency": "EUR"},
        "Website": "https://www.mueller.example/",
        "domain": "mueller.example",
        "country": "DE",
    }
    assert records["post@cafe.example"]["data"]["Firma"] == 'Café "Zur Post"'
    assert records["schoen@schoen.example"]["data"]["Firma"] == "Schön AG"
    # The uploaded file is removed once imported; nothing stays staged.
    assert not (data_dir / upload).exists()
    assert await _leftovers(store) == 0


async def test_json_lines_and_json_arrays_are_imported(store: JobStore, data_dir: Path) -> None:
    rows = [{"sku": f"S{i}", "name": f"Item {i}", "tags": ["a", "b"]} for i in range(5)]
    jsonl = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    job = await datasets.run_job(
        store,
        "import",
        {"dataset": "items", "file": datasets.upload(data_dir, jsonl, ".jsonl"), "key": ["sku"]},
        data_dir,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result["format"] == "jsonl"  # type: ignore[index]
    array = json.dumps(rows[:2] + [{"sku": "S9", "name": "New"}], indent=2).encode()
    job = await datasets.run_job(
        store,
        "import",
        {"dataset": "items", "file": datasets.upload(data_dir, array, ".json")},
        data_dir,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result["format"] == "json"  # type: ignore[index]
    assert await datasets.states(store, "items") == {
        "S0": "unchanged",
        "S1": "unchanged",
        "S9": "new",
    }
    assert (await datasets.records(store, "items"))["S0"]["data"]["tags"] == ["a", "b"]


async def test_rejects_and_duplicates_are_counted_and_kept_with_reasons(
    store: JobStore, data_dir: Path
) -> None:
    csv = b"sku,qty\nA,1\nB,x\nA,2\n,3\nC,4\n"
    schema = {"type": "object", "properties": {"qty": {"type": "string", "pattern": "^[0-9]+$"}}}
    payload = {
        "dataset": "stock",
        "file": datasets.upload(data_dir, csv),
        "key": ["sku"],
        "schema": schema,
    }
    job = await datasets.run_job(store, "import", payload, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    result = job.result
    assert isinstance(result, dict)
    assert (result["received"], result["new"], result["rejected"], result["duplicates"]) == (
        5,
        2,
        2,
        1,
    )
    # The first row of a key wins.
    assert (await datasets.records(store, "stock"))["A"]["data"] == {"sku": "A", "qty": "1"}
    dataset = await DatasetStore(store.db).get("stock")
    rejects, _ = await DatasetStore(store.db).rejects(dataset["id"], result["run_id"])
    assert [(r["line"], r["reason"], r["data"]) for r in rejects] == [
        (3, 'qty: "x" does not match "^[0-9]+$"', {"sku": "B", "qty": "x"}),
        (5, "the key field 'sku' is missing or empty", {"qty": "3"}),
    ]


@pytest.mark.parametrize(
    ("suffix", "content", "line", "problem"),
    [
        (
            ".csv",
            b"id,name\n" + b"".join(b"%d,row\n" % i for i in range(5000)) + b"x\n",
            5002,
            "expected 2 fields, found 1",
        ),
        (".jsonl", b'{"id": 1}\n' * 4500 + b'{"id": 2,}\n', 4501, "not valid JSON"),
        (".json", b"[" + b'{"id": 1},\n' * 4500 + b"7]", 4501, "must be a JSON object"),
    ],
)
async def test_a_malformed_file_fails_for_good_naming_the_line_and_keeps_nothing(
    store: JobStore, data_dir: Path, suffix: str, content: bytes, line: int, problem: str
) -> None:
    good = datasets.upload(data_dir, b"id,name\n1,kept\n")
    assert (
        await datasets.run_job(
            store, "import", {"dataset": "d", "file": good, "key": ["id"]}, data_dir
        )
    ).status is JobStatus.SUCCEEDED

    # Bad only after a few batches were staged: those must go too.
    upload = datasets.upload(data_dir, content, suffix)
    payload = {"dataset": "d", "file": upload, "filename": f"bad{suffix}"}
    job = await datasets.run_job(store, "import", payload, data_dir)

    assert job.status is JobStatus.FAILED
    assert job.attempts == 1  # permanent: not retried
    assert job.error is not None
    assert job.error["type"] == "PermanentError"
    assert job.error["message"].startswith(f"bad{suffix}: line {line}: ")
    assert problem in job.error["message"]
    # The dataset is as the good import left it; nothing of the bad one remains.
    assert await datasets.states(store, "d") == {"1": "new"}
    assert await _leftovers(store) == 0
    dataset = await DatasetStore(store.db).get("d")
    failed = (await DatasetStore(store.db).runs(dataset["id"]))[0]
    assert failed["status"] == "failed" and f"line {line}" in failed["error"]


async def test_a_reimport_replaces_the_previous_one_atomically(
    store: JobStore, data_dir: Path
) -> None:
    first = b"sku,price\nA,1\nB,2\nC,3\n"
    job = await datasets.run_job(
        store,
        "import",
        {"dataset": "cat", "file": datasets.upload(data_dir, first), "key": ["sku"]},
        data_dir,
    )
    assert job.status is JobStatus.SUCCEEDED, job.error

    # The second file is large enough to be staged in several batches while we watch.
    rows = 5 * ingest.BATCH
    second = b"sku,price\nB,2\nC,30\n" + b"".join(b"N%d,1\n" % i for i in range(rows - 2))
    upload = datasets.upload(data_dir, second)
    spec = JobSpec("import", {"dataset": "cat", "file": upload})
    dataset_store = DatasetStore(store.db)
    dataset = await dataset_store.get("cat")
    seen_totals: set[int] = set()
    seen_while_staging = False
    async with datasets.serving(store, data_dir):
        job = await store.enqueue(spec)
        while not (current := await store.get(job.id)).finished:
            total = sum((await dataset_store.counts(dataset["id"])).values())
            seen_totals.add(total)
            progress = current.progress or {}
            if progress.get("phase") == "reading" and progress.get("rows", 0) >= ingest.BATCH:
                seen_while_staging = seen_while_staging or total == 3
            await asyncio.sleep(0)
    job = await store.get(job.id)
    assert job.status is JobStatus.SUCCEEDED, job.error
    # Readers saw the first import or the second, never a mixture.
    assert seen_totals <= {3, rows}
    assert seen_while_staging, "never looked while the second file was being staged"

    states = await datasets.states(store, "cat")
    assert len(states) == rows and "A" not in states
    assert (states["B"], states["C"], states["N0"]) == ("unchanged", "changed", "new")
    assert job.result["gone"] == 1  # type: ignore[index]


async def test_an_import_payload_is_checked_at_enqueue_time(store: JobStore) -> None:
    good = {"dataset": "d", "file": "uploads/x.csv"}
    for bad, field in [
        ({**good, "file": "../etc/passwd"}, "file"),
        ({**good, "file": "exports/x.csv"}, "file"),
        ({**good, "dataset": "a/b"}, "dataset"),
        ({**good, "encoding": "klingon"}, "encoding"),
        ({**good, "delimiter": ";;"}, "delimiter"),
        ({**good, "format": "xml"}, "format"),
        ({**good, "region": "QQ"}, "region"),
        ({**good, "colour": "red"}, "colour"),
    ]:
        with pytest.raises(errors.InvalidInput) as caught:
            await store.enqueue(JobSpec("import", bad))
        assert caught.value.field == field, bad
