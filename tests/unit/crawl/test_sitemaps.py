"""Sitemap parsing and discovery, hostile XML included."""

from __future__ import annotations

import gzip
import time
from typing import Any

import pytest
from aiohttp import web

from scrapeyard.crawl import fetcher, sitemaps
from tests.unit.crawl import sites
from tests.unit.crawl.conftest import Serve

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*locs: str) -> bytes:
    entries = "".join(f"<url><loc>{loc}</loc><lastmod>2024-01-01</lastmod></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{entries}</urlset>'.encode()


def index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f"<sitemapindex {NS}>{entries}</sitemapindex>".encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<urlset><url><loc>&lol9;</loc></url></urlset>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>http://a.test/&xxe;</loc></url></urlset>"""


# -- parsing ----------------------------------------------------------------------------


def test_parses_a_urlset() -> None:
    parsed = sitemaps.parse(
        urlset("https://a.test/1", " https://a.test/2\n", "https://a.test/&amp;3")
    )

    assert parsed.kind == "urlset"
    assert parsed.locs == ["https://a.test/1", "https://a.test/2", "https://a.test/&3"]
    assert parsed.error is None


def test_parses_an_index_with_or_without_namespaces() -> None:
    plain = b"<sitemapindex><sitemap><loc>https://a.test/s1.xml</loc></sitemap></sitemapindex>"
    prefixed = (
        b'<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sm:sitemap><sm:loc>https://a.test/s2.xml</sm:loc></sm:sitemap></sm:sitemapindex>"
    )

    assert sitemaps.parse(plain).locs == ["https://a.test/s1.xml"]
    assert sitemaps.parse(prefixed).kind == "sitemapindex"
    assert sitemaps.parse(prefixed).locs == ["https://a.test/s2.xml"]


def test_ignores_locs_outside_url_entries() -> None:
    body = (
        b"<urlset><url><loc>https://a.test/1</loc>"
        b"<image:image xmlns:image='http://www.google.com/schemas/sitemap-image/1.1'>"
        b"<image:loc>https://a.test/pic.jpg</image:loc></image:image></url></urlset>"
    )

    assert sitemaps.parse(body).locs == ["https://a.test/1"]


def test_parses_a_text_sitemap() -> None:
    body = b"https://a.test/1\r\n\r\n  https://a.test/2  \nnot a url\n"

    assert sitemaps.parse(body).locs == ["https://a.test/1", "https://a.test/2"]


def test_malformed_xml_keeps_what_came_before() -> None:
    body = urlset("https://a.test/1", "https://a.test/2")[:-20] + b"<url><loc>broken</u"

    parsed = sitemaps.parse(body)

    assert parsed.locs == ["https://a.test/1", "https://a.test/2"]
    assert parsed.error is not None and "malformed XML" in parsed.error


def test_something_else_is_not_a_sitemap() -> None:
    parsed = sitemaps.parse(b"<html><body><loc>x</loc></body></html>")

    assert parsed.locs == []
    assert parsed.error == "not a sitemap (root element 'html')"


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE])
def test_entities_are_refused(body: bytes) -> None:
    started = time.monotonic()
    parsed = sitemaps.parse(body)

    assert parsed.locs == []
    assert parsed.error == "entity declarations are not allowed in a sitemap"
    assert time.monotonic() - started < 0.5


def test_parsing_stops_at_the_limit() -> None:
    parsed = sitemaps.parse(urlset(*(f"https://a.test/{i}" for i in range(100))), limit=10)

    assert len(parsed.locs) == 10


# -- discovery --------------------------------------------------------------------------


def sitemap_site(files: dict[str, tuple[bytes, dict[str, str]]]) -> web.Application:
    """Serves ``files`` (path -> body, headers); anything else is a 404."""
    app = sites.counting_app()

    async def serve_file(request: web.Request) -> web.StreamResponse:
        if request.path not in files:
            raise web.HTTPNotFound()
        body, headers = files[request.path]
        return web.Response(body=body, headers=headers)

    app.router.add_get("/{tail:.*}", serve_file)
    return app


async def discover(
    client: fetcher.Fetcher, base: str, robots_lines: list[str], **limits: Any
) -> tuple[list[str], sitemaps.Discovery]:
    discovery = sitemaps.Discovery(client, **limits)
    found = [url async for url in discovery.urls(f"{base}/", robots_lines)]
    return found, discovery


async def test_discovers_through_robots_lines_indexes_gzip_and_the_default(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    app = sitemap_site(files)
    base = await serve(app)
    xml = {"Content-Type": "application/xml"}
    files.update(
        {
            "/sitemap.xml": (urlset(f"{base}/home", f"{base}/a"), xml),
            "/index.xml": (index(f"{base}/pages.xml", f"{base}/more.xml.gz"), xml),
            "/pages.xml": (urlset(f"{base}/a", f"{base}/b"), xml),
            "/more.xml.gz": (
                gzip.compress(urlset(f"{base}/c")),
                {"Content-Type": "application/x-gzip"},
            ),
            "/encoded.xml": (
                gzip.compress(urlset(f"{base}/d")),
                {"Content-Type": "application/xml", "Content-Encoding": "gzip"},
            ),
        }
    )

    found, discovery = await discover(client, base, [f"{base}/index.xml", f"{base}/encoded.xml"])

    assert found == [f"{base}/d", f"{base}/home", f"{base}/a", f"{base}/b", f"{base}/c"]
    assert discovery.errors == []
    assert not discovery.truncated


async def test_missing_and_broken_sitemaps_are_recorded_and_skipped(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    base = await serve(sitemap_site(files))
    files["/broken.xml"] = (urlset(f"{base}/ok")[:-15], {})
    files["/laughs.xml"] = (BILLION_LAUGHS, {})
    files["/fake.xml.gz"] = (b"\x1f\x8b not really gzip", {})

    found, discovery = await discover(
        client,
        base,
        [f"{base}/broken.xml", f"{base}/laughs.xml", f"{base}/fake.xml.gz", "ftp://x/s.xml"],
    )

    assert found == [f"{base}/ok"]
    reasons = dict(discovery.errors)
    assert "malformed XML" in reasons[f"{base}/broken.xml"]
    assert "entity" in reasons[f"{base}/laughs.xml"]
    assert "corrupt" in reasons[f"{base}/fake.xml.gz"]
    assert "only http and https" in reasons["ftp://x/s.xml"]
    assert reasons[f"{base}/sitemap.xml"] == "HTTP 404"


async def test_url_count_cap(client: fetcher.Fetcher, serve: Serve) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    base = await serve(sitemap_site(files))
    files["/sitemap.xml"] = (urlset(*(f"{base}/{i}" for i in range(50))), {})

    found, discovery = await discover(client, base, [], max_urls=20)

    assert len(found) == 20
    assert discovery.truncated


async def test_index_depth_and_sitemap_count_caps_and_loops(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    app = sitemap_site(files)
    base = await serve(app)
    files["/sitemap.xml"] = (index(f"{base}/sitemap.xml", f"{base}/level1.xml"), {})
    files["/level1.xml"] = (index(f"{base}/level2.xml"), {})
    files["/level2.xml"] = (urlset(f"{base}/deep"), {})

    found, discovery = await discover(client, base, [], max_depth=1)

    assert found == []
    assert (f"{base}/level1.xml", "sitemap index nested deeper than 1") in discovery.errors
    assert app[sites.HITS]["/sitemap.xml"] == 1  # the self-reference is not read again

    files["/wide.xml"] = (index(*(f"{base}/s{i}.xml" for i in range(10))), {})
    _, capped = await discover(client, base, [f"{base}/wide.xml"], max_sitemaps=3)
    assert len(capped.sitemaps_read) == 3
    assert capped.errors[-1][1] == "more than 3 sitemaps"


async def test_a_sitemap_bomb_is_read_only_up_to_the_byte_limit(
    client: fetcher.Fetcher, serve: Serve
) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    base = await serve(sitemap_site(files))
    files["/bomb.xml.gz"] = (sites.gzip_bomb(10_000_000), {"Content-Type": "application/gzip"})

    found, discovery = await discover(client, base, [f"{base}/bomb.xml.gz"], max_bytes=1024 * 1024)

    assert found == []
    assert "read in part" in dict(discovery.errors)[f"{base}/bomb.xml.gz"]


async def test_a_large_sitemap_is_read_in_full(client: fetcher.Fetcher, serve: Serve) -> None:
    files: dict[str, tuple[bytes, dict[str, str]]] = {}
    base = await serve(sitemap_site(files))
    locs = [f"{base}/products/item-{i}" for i in range(6000)]
    files["/sitemap.xml"] = (gzip.compress(urlset(*locs)), {"Content-Type": "application/gzip"})
    assert len(urlset(*locs)) > 256 * 1024  # parsed in a thread, off the event loop

    found, discovery = await discover(client, base, [])

    assert found == locs
    assert discovery.errors == []
