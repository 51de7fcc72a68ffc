"""Rendered pages: content that exists only after scripts run, waits, actions, captures."""

from __future__ import annotations

from typing import Any

from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.resources import Resources
from tests.crawl import harness
from tests.render.conftest import Sites
from tests.sites import scripted


async def _scrape(
    store: JobStore, shared: Resources, urls: list[str], **options: Any
) -> list[dict[str, Any]]:
    job = await harness.run_job(
        store, "scrape", {"urls": urls, "rate_limit": harness.UNLIMITED, **options}, shared=shared
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    return await harness.records(store, job.id)


async def test_client_rendered_content_is_extracted_from_the_dom(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    [record] = await _scrape(
        store,
        shared,
        [sites.site.url("/csr")],
        render="always",
        formats=["markdown", "links"],
        selectors={"title": ".title::text", "price": ".price::text"},
    )
    assert record["ok"], record["error"]
    assert record["data"]["render"] == "browser"
    assert record["data"]["selectors"] == {"title": "Client title", "price": "9.99"}
    assert "Client title" in record["data"]["markdown"]
    assert sites.site.url("/static") in record["data"]["links"]
    # The page was fetched once: the browser was handed the crawl's response.
    assert sites.site.log.counts()["/csr"] == 1


async def test_a_click_loads_content_before_extraction(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    [record] = await _scrape(
        store,
        shared,
        [sites.site.url("/click")],
        render="always",
        actions=[{"type": "click", "selector": "#load"}, {"type": "wait", "selector": "#more"}],
        selectors={"more": "#more::text"},
    )
    assert record["data"]["selectors"] == {"more": "Loaded after a click"}


async def test_scrolling_to_the_end_of_an_infinite_list_loads_every_item(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    [record] = await _scrape(
        store,
        shared,
        [sites.site.url("/infinite")],
        render="always",
        actions=[{"type": "scroll_to_end", "item_selector": "li.item", "max_scrolls": 20}],
        selectors={"items": {"css": "li.item::text", "all": True}},
    )
    items = record["data"]["selectors"]["items"]
    assert items == [f"item {n}" for n in range(scripted.PAGE * scripted.PAGES)]
    # The list ended: no page past the last one was asked for.
    asked = [p for p in sites.site.log.counts() if p.startswith("/api/items")]
    assert len(asked) == scripted.PAGES


async def test_screenshots_and_pdfs_are_stored_as_files_the_record_names(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    [record] = await _scrape(
        store,
        shared,
        [sites.site.url("/csr")],
        render="always",
        formats=["metadata", "screenshot", "screenshot@full_page", "pdf"],
        wait_for=".title",
    )
    assert record["ok"], record["error"]
    data = record["data"]
    magic = {"screenshot": b"\x89PNG", "screenshot@full_page": b"\x89PNG", "pdf": b"%PDF"}
    for name, start in magic.items():
        capture = data[name]
        path = shared.data_dir / capture["file"]
        assert path.read_bytes().startswith(start), name
        assert capture["bytes"] == path.stat().st_size > 1000
        assert capture["url"].startswith("/v1/jobs/")
    assert data["metadata"]["title"] == "Client rendered"


async def test_a_missing_wait_for_selector_fails_the_page_naming_it(
    store: JobStore, shared: Resources, sites: Sites
) -> None:
    [record] = await _scrape(
        store, shared, [sites.site.url("/csr")], render="always", wait_for="#never", timeout=2
    )
    assert not record["ok"]
    assert record["error"]["type"] == "ActionFailed"
    assert "#never" in record["error"]["message"]
