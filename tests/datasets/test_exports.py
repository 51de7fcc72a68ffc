"""Exports as jobs: a dataset's or a job's records written to a file under data_dir."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from scrapeyard import errors
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from tests.crawl import harness
from tests.sites import catalogue as shop
from tests.sites import server
from tests.support import datasets

HOSTILE = (
    b"sku,name,note\n"
    b'A,"=HYPERLINK(""http://evil.example"",""x"")",+1 call me\n'
    b"B,Plain,-5\n"
    b"C,@SUM(A1),fine\n"
)


async def _import(store: JobStore, data_dir: Path, content: bytes, name: str = "d") -> None:
    payload = {"dataset": name, "file": datasets.upload(data_dir, content), "key": ["sku"]}
    job = await datasets.run_job(store, "import", payload, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error


async def test_a_dataset_exported_to_csv_cannot_run_formulas(
    store: JobStore, data_dir: Path
) -> None:
    await _import(store, data_dir, HOSTILE)
    job = await datasets.run_job(store, "export", {"dataset": "d", "format": "csv"}, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    result = job.result
    assert isinstance(result, dict)
    path = Path(result["path"])
    assert path.parent == (data_dir / "exports").resolve()
    assert path.name.startswith("dataset-d-") and path.suffix == ".csv"
    assert result["records"] == 3 and result["bytes"] == path.stat().st_size
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["_state", "_first_seen_at", "_last_seen_at", "sku", "name", "note"]
    cells = {row[3]: row[4:] for row in rows[1:]}
    assert cells == {
        "A": ['\'=HYPERLINK("http://evil.example","x")', "'+1 call me"],
        "B": ["Plain", "'-5"],
        "C": ["'@SUM(A1)", "fine"],
    }
    assert all(row[0] == "new" for row in rows[1:])
    assert not list(path.parent.glob(".*.partial"))


async def test_changed_only_to_a_gzipped_path_of_ones_choosing(
    store: JobStore, data_dir: Path
) -> None:
    await _import(store, data_dir, b"sku,price\nA,1\nB,2\nC,3\n")
    await _import(store, data_dir, b"sku,price\nA,1\nB,20\nD,4\n")
    payload = {"dataset": "d", "changed_only": True, "path": "exports/daily/changes.jsonl.gz"}
    job = await datasets.run_job(store, "export", payload, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    path = data_dir / "exports/daily/changes.jsonl.gz"
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    # C was removed by the re-import (counted, no longer stored); A did not change.
    assert sorted((r["key"]["sku"], r["state"], r["data"]["price"]) for r in lines) == [
        ("B", "changed", {"amount": "20", "currency": None}),
        ("D", "new", {"amount": "4", "currency": None}),
    ]
    # Run again to the same path: replaced, not appended to.
    job = await datasets.run_job(store, "export", payload, data_dir)
    assert job.result["records"] == 2  # type: ignore[index]
    assert len(gzip.decompress(path.read_bytes()).splitlines()) == 2


async def test_a_chain_crawls_then_exports_the_crawl(
    store: JobStore, sites: server.ServerThread, data_dir: Path
) -> None:
    catalogue = shop.Catalogue()
    catalogue.set({"A1": shop.Product("Anvil", "$1"), "B2": shop.Product("=1+1", "$2")})
    site = sites.serve(shop.catalogue_site(catalogue))
    crawl = await store.enqueue(
        JobSpec(
            "crawl",
            {
                "url": site.url("/"),
                "formats": ["selectors"],
                "selectors": shop.SELECTORS,
                "rate_limit": harness.UNLIMITED,
                "use_sitemap": False,
            },
        )
    )
    export = await store.enqueue(
        JobSpec(
            "export",
            {"job": "previous", "format": "csv", "path": "exports/site.csv"},
            depends_on=(crawl.id,),
        )
    )
    # A burst worker may stop between the two steps; run one until the chain is done.
    for _ in range(3):
        await harness.work(store, shared=datasets.resources(store, data_dir))
        if (job := await store.get(export.id)).finished:
            break
    assert job.status is JobStatus.SUCCEEDED, job.error
    rows = list(csv.DictReader(io.StringIO((data_dir / "exports/site.csv").read_text())))
    assert {row["url"] for row in rows} == {
        site.url("/"),
        site.url("/products/A1"),
        site.url("/products/B2"),
    }
    assert {row["name"] for row in rows} == {"", "Anvil", "'=1+1"}
    assert job.result["records"] == 3  # type: ignore[index]


async def test_export_payloads_are_checked_at_enqueue_time(store: JobStore) -> None:
    for bad, field in [
        ({"dataset": "d", "path": "../outside.csv"}, "path"),
        ({"dataset": "d", "path": "uploads/x.csv"}, "path"),
        ({"dataset": "d", "job": 1}, "job"),
        ({}, "job"),
        ({"job": "latest"}, "job"),
        ({"job": 3, "changed_only": True}, "changed_only"),
        ({"dataset": "d", "format": "xlsx"}, "format"),
        ({"dataset": "d", "states": ["lost"]}, "states"),
    ]:
        with pytest.raises(errors.InvalidInput) as caught:
            await store.enqueue(JobSpec("export", bad))
        assert caught.value.field == field, bad


async def test_exporting_a_dataset_that_does_not_exist_fails_for_good(
    store: JobStore, data_dir: Path
) -> None:
    job = await datasets.run_job(store, "export", {"dataset": "nope"}, data_dir)
    assert job.status is JobStatus.FAILED and job.attempts == 1
    assert "dataset 'nope' not found" in job.error["message"]  # type: ignore[index]
