"""A crawl writing into a dataset, three times over a shop whose catalogue changes:
records upserted by key, stamped new, changed, unchanged or gone, rejects kept aside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scrapeyard.queue.datasets import DatasetStore, RecordFilter
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs
from tests.crawl import harness
from tests.sites import catalogue as shop
from tests.sites import server
from tests.support import datasets

SCHEMA = {
    "type": "object",
    "required": ["price"],
    "properties": {"price": {"type": "object", "required": ["amount", "currency"]}},
}


def _crawl(origin: str) -> dict[str, Any]:
    return {
        "url": origin + "/",
        "formats": ["selectors", "metadata", "contacts"],
        "selectors": shop.SELECTORS,
        "rate_limit": harness.UNLIMITED,
        "use_sitemap": False,
        "dataset": {
            "name": "products",
            "key": ["sku"],
            "fields": {
                "sku": "selectors.sku",
                "name": "selectors.name",
                "price": "selectors.price",
                "email": "contacts.emails.0",
                "url": "url",
            },
            "schema": SCHEMA,
            "processors": ["domain", "company"],
        },
    }


async def _crawl_once(store: JobStore, origin: str, data_dir: Path) -> dict[str, Any]:
    job = await datasets.run_job(store, "crawl", _crawl(origin), data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert isinstance(job.result, dict)
    summary: dict[str, Any] = job.result["dataset"]
    return summary


async def test_three_crawls_stamp_what_changed_between_them(
    store: JobStore, sites: server.ServerThread, data_dir: Path
) -> None:
    catalogue = shop.Catalogue()
    catalogue.set(
        {
            "A1": shop.Product("Anvil", "€1.234,50"),
            "B2": shop.Product("Bucket", "$12.99"),
            "C3": shop.Product("Crate", "12,99 EUR"),
            "D4": shop.Product("Drum", "call us"),  # no price: rejected by the schema
        }
    )
    site = sites.serve(shop.catalogue_site(catalogue))

    first = await _crawl_once(store, site.origin, data_dir)
    # D4 has no price, the index page neither (nor a SKU): both are rejected.
    assert (first["received"], first["new"], first["rejected"]) == (5, 3, 2)
    assert await datasets.states(store, "products") == {"A1": "new", "B2": "new", "C3": "new"}
    anvil = (await datasets.records(store, "products"))["A1"]["data"]
    assert anvil == {
        "sku": "A1",
        "name": "Anvil",
        "price": {"amount": "1234.50", "currency": "EUR"},
        "email": "sales@shop.example",
        "url": site.url("/products/A1"),
        "domain": "127.0.0.1",
        "company": "Widgets Ltd",
    }

    catalogue.set(
        {
            "A1": shop.Product("Anvil", "€1.234,50"),
            "B2": shop.Product("Bucket", "$13.49"),  # price up
            "C3": shop.Product("Crate", "12.99 EUR"),  # written differently, same price
            "E5": shop.Product("Easel", "£5"),  # new; D4 and nothing else gone
        }
    )
    second = await _crawl_once(store, site.origin, data_dir)
    assert {k: second[k] for k in ("new", "changed", "unchanged", "gone")} == {
        "new": 1,
        "changed": 1,
        "unchanged": 2,
        "gone": 0,
    }
    assert await datasets.states(store, "products") == {
        "A1": "unchanged",
        "B2": "changed",
        "C3": "unchanged",
        "E5": "new",
    }

    catalogue.set(
        {
            "B2": shop.Product("Bucket", "$13.49"),
            "C3": shop.Product("Crate (large)", "12.99 EUR"),
            "E5": shop.Product("Easel", "£5"),
        }
    )
    third = await _crawl_once(store, site.origin, data_dir)
    assert {k: third[k] for k in ("new", "changed", "unchanged", "gone")} == {
        "new": 0,
        "changed": 1,
        "unchanged": 2,
        "gone": 1,
    }
    records = await datasets.records(store, "products")
    assert {sku: r["state"] for sku, r in records.items()} == {
        "A1": "gone",
        "B2": "unchanged",
        "C3": "changed",
        "E5": "unchanged",
    }
    # A record gone keeps its last data; one that changed has the new data.
    assert records["A1"]["data"]["name"] == "Anvil"
    assert records["C3"]["data"]["name"] == "Crate (large)"
    assert records["B2"]["first_seen_at"] < records["B2"]["last_seen_at"]

    # What the last run changed, and what it rejected (with the reasons).
    store_ = DatasetStore(store.db)
    dataset = await store_.get("products")
    last = await store_.last_run(dataset["id"])
    assert last is not None and last["id"] == third["run_id"]
    page = await store_.records(
        dataset["id"], RecordFilter(states=("new", "changed", "gone"), run_id=last["id"])
    )
    assert sorted(r["key"]["sku"] for r in page.records) == ["A1", "C3"]
    rejects, _ = await store_.rejects(dataset["id"], first["run_id"])
    assert {(r["data"] or {}).get("sku"): r["reason"] for r in rejects} == {
        "D4": 'price: "call us" is not of type "object"',
        None: '"price" is a required property',
    }


async def test_a_scrape_is_not_a_full_run_and_leaves_unseen_records_alone(
    store: JobStore, sites: server.ServerThread, data_dir: Path
) -> None:
    catalogue = shop.Catalogue()
    catalogue.set({"A1": shop.Product("Anvil", "$1"), "B2": shop.Product("Bucket", "$2")})
    site = sites.serve(shop.catalogue_site(catalogue))
    crawl = _crawl(site.origin)
    await _crawl_once(store, site.origin, data_dir)

    scrape = {
        "urls": [site.url("/products/B2")],
        "formats": crawl["formats"],
        "selectors": crawl["selectors"],
        "dataset": crawl["dataset"],
    }
    job = await datasets.run_job(store, "scrape", scrape, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.result["dataset"]["gone"] == 0  # type: ignore[index]
    assert await datasets.states(store, "products") == {"A1": "new", "B2": "unchanged"}


async def test_pages_keyed_by_url_by_default_and_a_key_change_is_refused(
    store: JobStore, sites: server.ServerThread, data_dir: Path
) -> None:
    catalogue = shop.Catalogue()
    catalogue.set({"A1": shop.Product("Anvil", "$1")})
    site = sites.serve(shop.catalogue_site(catalogue))
    payload = {
        "url": site.url("/"),
        "formats": ["metadata"],
        "rate_limit": harness.UNLIMITED,
        "use_sitemap": False,
        "dataset": "pages",
    }
    job = await datasets.run_job(store, "crawl", payload, data_dir)
    assert job.status is JobStatus.SUCCEEDED, job.error
    records = await datasets.records(store, "pages")
    assert set(records) == {site.url("/"), site.url("/products/A1")}
    assert records[site.url("/")]["data"] == {"url": site.url("/"), "title": "Shop | Widgets Ltd"}

    rekeyed = {**payload, "dataset": {"name": "pages", "key": ["title"]}}
    job = await datasets.run_job(store, "crawl", rekeyed, data_dir)
    assert job.status is JobStatus.FAILED
    assert "keyed by ['url']" in job.error["message"]  # type: ignore[index]
    assert len(await datasets.records(store, "pages")) == 2


async def test_a_job_that_runs_again_does_not_feed_its_dataset_twice(
    store: JobStore, sites: server.ServerThread, data_dir: Path
) -> None:
    catalogue = shop.Catalogue()
    catalogue.set({"A1": shop.Product("Anvil", "$1")})
    site = sites.serve(shop.catalogue_site(catalogue))
    job = await datasets.run_job(store, "crawl", _crawl(site.origin), data_dir)
    first = job.result["dataset"]  # type: ignore[index]

    # As if its completion had been lost after the run committed: the job runs again.
    async with store.transaction() as tx:
        await tx.execute(
            sa.update(jobs).where(jobs.c.id == job.id).values(status="queued", result=None)
        )
    await harness.work(store, shared=datasets.resources(store, data_dir))

    again = await store.get(job.id)
    assert again.status is JobStatus.SUCCEEDED, again.error
    assert again.result["dataset"] == first  # type: ignore[index]
    # A second run would have stamped the record unchanged.
    assert await datasets.states(store, "products") == {"A1": "new"}
    dataset = await DatasetStore(store.db).get("products")
    assert len(await DatasetStore(store.db).runs(dataset["id"])) == 1
