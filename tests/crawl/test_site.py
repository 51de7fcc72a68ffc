"""Crawling the generated site: exactly the right pages, each once, and the right records.

Every test reads the site's own request log, so "fetched" means "the server was asked",
not "the crawler says so". See ``tests/sites/generated.py`` for the site's traps.
"""

from __future__ import annotations

import collections

import sqlalchemy as sa
from aiohttp import web

from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import crawl_frontier
from tests.crawl import harness
from tests.sites import generated, server, tree

SITEMAPS = {
    "/sitemap_index.xml": 1,
    "/sitemap-pages.xml.gz": 1,
    "/sitemap-gone.xml": 1,
    "/sitemap.xml": 1,
}
FILES = ("/files/report.pdf", "/files/data.csv", "/img/logo.png")


def _page_requests(log: server.RequestLog) -> collections.Counter[str]:
    """Requests for pages: robots.txt and sitemaps left out."""
    return collections.Counter(
        {
            path: n
            for path, n in log.counts().items()
            if path != "/robots.txt" and path not in SITEMAPS
        }
    )


async def test_a_crawl_fetches_every_page_in_scope_once_and_nothing_else(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(generated.generated_site(gates=True))
    job = await harness.run_job(
        store,
        "crawl",
        {"url": site.url("/"), "max_depth": 3, "rate_limit": harness.UNLIMITED, "concurrency": 8},
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    assert site.log.counts() == {
        "/robots.txt": 1,
        **SITEMAPS,
        "/": 1,
        # Once directly and once more at the end of /go-about's redirect: the fetcher
        # follows redirects itself, so it cannot know the target was fetched already.
        "/about": 2,
        "/products/": 1,
        "/products/?a=1&b=2": 1,
        "/products/item-1": 1,
        "/products/item-2": 1,
        "/blog/": 1,
        "/blog/post-1": 1,
        "/old": 1,
        "/moved": 1,
        # Reached through /old first; the direct link on /blog/post-1 is not followed.
        "/new": 1,
        "/go-about": 1,
        "/missing": 1,
        **dict.fromkeys(FILES, 1),
        "/caf%C3%A9": 1,
        "/deep/1": 1,
        "/deep/2": 1,
        "/deep/3": 1,
        "/from-sitemap": 1,
        "/from-sitemap-gz": 1,
    }
    assert not any(path.startswith("/private/") for path in site.log.counts())

    records = await harness.records_by_path(store, job.id, site.origin)
    fetched = {
        "/",
        "/about",
        "/products/",
        "/products/?a=1&b=2",
        "/products/item-1",
        "/products/item-2",
        "/blog/",
        "/blog/post-1",
        "/caf%C3%A9",
        "/deep/1",
        "/deep/2",
        "/deep/3",
        "/from-sitemap",
        "/from-sitemap-gz",
        *FILES,
    }
    redirected = {"/old": "/new", "/go-about": "/about"}
    blocked = {"/private/secret", "/private/listed"}
    assert set(records) == fetched | set(redirected) | blocked | {"/missing"}
    for path in fetched:
        assert records[path]["ok"] and records[path]["status"] == 200, path
        assert records[path]["final_url"] == site.url(path)
    for path, target in redirected.items():
        assert records[path]["ok"] and records[path]["final_url"] == site.url(target)
    for path in blocked:
        assert records[path]["status"] is None and not records[path]["ok"]
        assert records[path]["error"]["type"] == "RobotsDisallowed"
    assert records["/missing"]["status"] == 404 and records["/missing"]["error"] == {
        "type": "HTTPError",
        "message": "HTTP 404",
    }
    # Only HTML is parsed; other types are recorded without content.
    for path in FILES:
        assert records[path]["data"] is None
    assert records["/caf%C3%A9"]["data"]["metadata"]["title"] == "Café"
    assert records["/from-sitemap-gz"]["depth"] == 1
    assert records["/deep/3"]["depth"] == 3

    counters = await harness.counters(store, job.id)
    assert counters["fetched"] == len(fetched) + len(redirected)
    assert counters["failed"] == 1
    assert counters["skipped_robots"] == len(blocked)
    assert counters["skipped_content_type"] == len(FILES)
    # external.invalid/ (a link), external.invalid/listed (the sitemap), /deep/4.
    assert counters["skipped_scope"] == 3
    assert counters["open"] == 0
    assert counters["stats"]["sitemaps_read"] == 4
    assert counters["stats"]["sitemap_errors"] == [f"{site.origin}/sitemap-gone.xml: HTTP 404"]
    assert job.result == {
        "pages": len(fetched) + len(redirected),
        "failed": 1,
        "discovered": len(records),
        "skipped": {"robots": 2, "scope": 3, "content_type": 3},
        "bytes": counters["bytes"],
    }


async def test_include_and_exclude_paths_limit_what_is_fetched(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(generated.generated_site())
    job = await harness.run_job(
        store,
        "crawl",
        {
            "url": site.url("/"),
            "include_paths": ["/products/*"],
            "exclude_paths": ["re:item-2$"],
            "rate_limit": harness.UNLIMITED,
        },
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    # The start URL is always fetched; sitemaps are read, but list nothing included.
    assert _page_requests(site.log) == {
        "/": 1,
        "/products/": 1,
        "/products/?a=1&b=2": 1,
        "/products/item-1": 1,
    }
    records = await harness.records_by_path(store, job.id, site.origin)
    assert set(records) == {"/", "/products/", "/products/?a=1&b=2", "/products/item-1"}
    counters = await harness.counters(store, job.id)
    # Every other URL of the site once, however often and in how many spellings it was
    # found: /about, /blog/, /old, /missing, the three files, /private/secret,
    # /caf%C3%A9, /deep/1, external.invalid/ (links on /); /products/item-2 (excluded);
    # /go-about; and from the sitemaps /from-sitemap, /from-sitemap-gz, /private/listed
    # and external.invalid/listed.
    assert counters["skipped_scope"] == 17
    assert counters["skipped_robots"] == 0


async def test_max_depth_counts_links_from_the_start_url(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(generated.generated_site())
    job = await harness.run_job(
        store,
        "crawl",
        {
            "url": site.url("/deep/1"),
            "max_depth": 2,
            "use_sitemap": False,
            "rate_limit": harness.UNLIMITED,
        },
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    # /deep/1 is depth 0; /deep/4 would be depth 3.
    assert _page_requests(site.log) == {"/deep/1": 1, "/deep/2": 1, "/deep/3": 1}
    assert (await harness.counters(store, job.id))["skipped_scope"] == 1


async def test_a_page_first_found_too_deep_is_still_fetched_when_found_shallower(
    store: JobStore, sites: server.ServerThread
) -> None:
    """Concurrent crawling does not find every page at its shallowest depth first."""
    links = {
        "/": ["/a", "/b1"],
        "/a": ["/x"],  # /x at depth 2: within max_depth
        "/b1": ["/b2"],
        "/b2": ["/c"],
        "/c": ["/x"],  # /x at depth 4: too deep
        "/x": [],
    }

    async def handle(request: web.Request) -> web.StreamResponse:
        hrefs = "".join(f'<a href="{href}">{href}</a>' for href in links[request.path])
        return web.Response(text=f"<html><body>{hrefs}</body></html>", content_type="text/html")

    app = server.logged_app()
    for path in links:
        app.router.add_get(path, handle)
    # /a answers only after /c: /x is first found too deep.
    site = sites.serve(server.add_gates(app, {"/a": "/c"}))
    job = await harness.run_job(
        store,
        "crawl",
        {
            "url": site.url("/"),
            "max_depth": 3,
            "use_sitemap": False,
            "rate_limit": harness.UNLIMITED,
        },
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    assert _page_requests(site.log) == dict.fromkeys(links, 1)
    records = await harness.records_by_path(store, job.id, site.origin)
    assert records["/x"]["depth"] == 2
    assert (await harness.counters(store, job.id))["skipped_scope"] == 0


async def test_max_pages_caps_the_pages_fetched(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(tree.tree_site(40))
    job = await harness.run_job(
        store, "crawl", {"url": site.url("/"), "max_pages": 7, "rate_limit": harness.UNLIMITED}
    )

    assert job.status is JobStatus.SUCCEEDED, job.error
    records = await harness.records_by_path(store, job.id, site.origin)
    assert len(records) == 7
    assert _page_requests(site.log) == dict.fromkeys(records, 1)
    assert job.result["pages"] == 7
    async with store.db.read() as conn:
        states = dict(
            (
                await conn.execute(
                    sa.select(crawl_frontier.c.state, sa.func.count())
                    .where(crawl_frontier.c.job_id == job.id)
                    .group_by(crawl_frontier.c.state)
                )
            ).all()
        )
    # URLs found past the cap are kept (as dropped) so they are not counted again.
    assert states.pop("done") == 7 and states.pop("dropped") > 0 and not states


SUBDOMAINS = ("site.test", "www.site.test", "blog.site.test", "a.blog.site.test", "other.test")


def _hosts_site() -> web.Application:
    """One server answering for several host names (told apart by ``Host``)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        port = request.url.port
        hrefs = [f"http://{name}:{port}/from-{request.url.host}" for name in SUBDOMAINS]
        body = "".join(f'<a href="{href}">{href}</a>' for href in hrefs)
        return web.Response(text=f"<html><body>{body}</body></html>", content_type="text/html")

    app = server.logged_app()
    app.router.add_get("/{name}", handle)
    app.router.add_get("/", handle)
    return app


def _hosts_fetched(log: server.RequestLog) -> collections.Counter[str]:
    return collections.Counter(
        r.host.partition(":")[0] + r.path for r in log.snapshot() if r.path != "/robots.txt"
    )


async def test_subdomains_are_followed_only_when_allowed(
    store: JobStore, sites: server.ServerThread
) -> None:
    site = sites.serve(_hosts_site())
    start = f"http://site.test:{site.port}/"
    payload = {"url": start, "use_sitemap": False, "rate_limit": harness.UNLIMITED}
    resolver = harness.StaticResolver(SUBDOMAINS)

    job = await harness.run_job(
        store,
        "crawl",
        payload,
        shared=harness.resources(store, resolver=resolver),
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    # www. counts as the same site; each page links to every host.
    assert _hosts_fetched(site.log) == {
        "site.test/": 1,
        "site.test/from-site.test": 1,
        "site.test/from-www.site.test": 1,
        "www.site.test/from-site.test": 1,
        "www.site.test/from-www.site.test": 1,
    }
    assert job.result["skipped"]["scope"] == 3 * 2  # blog, a.blog, other: from two hosts

    site.log.clear()
    job = await harness.run_job(
        store,
        "crawl",
        {**payload, "allow_subdomains": True},
        shared=harness.resources(store, resolver=resolver),
    )
    assert job.status is JobStatus.SUCCEEDED, job.error
    fetched = _hosts_fetched(site.log)
    assert set(fetched.values()) == {1}
    assert {path.partition("/")[0] for path in fetched} == {
        "site.test",
        "www.site.test",
        "blog.site.test",
        "a.blog.site.test",
    }
    assert len(fetched) == 1 + 4 * 4
    assert job.result["skipped"]["scope"] == 4  # other.test, from each of four hosts
    robots = [r.host.partition(":")[0] for r in site.log.snapshot() if r.path == "/robots.txt"]
    assert sorted(robots) == sorted(
        ["site.test", "www.site.test", "blog.site.test", "a.blog.site.test"]
    )
