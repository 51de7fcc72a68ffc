"""A small site with every trap a crawler meets, and what a correct crawl of it fetches.

The site (``generated_site()``) has, besides ordinary pages:

- a robots.txt that disallows ``/private/`` and names a sitemap index;
- the sitemap index, listing a gzipped sitemap (``.xml.gz``, served as a gzip file) and
  one that answers 404; and a plain ``/sitemap.xml``. Between them they list pages no
  link leads to, a disallowed page, an external URL and pages also found by links;
- a 301 -> 302 redirect chain (``/old`` -> ``/moved`` -> ``/new``) whose target is also
  linked directly, by a page that is only fetched after the redirect was followed; and a
  redirect (``/go-about``) to a page fetched directly before it;
- a 404, a PDF, a CSV and a PNG;
- one page under many spellings: ``?utm_source=``, a ``#fragment``, an upper-case
  scheme, ``../`` relative forms, query parameters in another order, percent-escapes in
  lower case;
- links to an external host (``external.invalid``), ``mailto:`` and ``javascript:``;
- a chain ``/deep/1`` -> ``/deep/2`` -> ... -> ``/deep/5``, each one link further.

Handlers build absolute URLs from the request's ``Host``, so the app works on any
port. With ``gates``, a few pages answer only once another page has been served, which
makes the order of a concurrent crawl deterministic where the outcome depends on it (see
``GATES`` and ``server.add_gates``).
"""

from __future__ import annotations

import gzip
import html

from aiohttp import web

from tests.sites import server

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
DEEPEST = 5

GATES = {
    # /blog/ leads to /blog/post-1, which links /new directly: only once the redirect
    # /old -> /moved -> /new has been followed, so the crawl knows /new is done.
    "/blog/": "/new",
    # /products/item-1 links /go-about, a redirect to /about: only after /about itself
    # was fetched, so /about is fetched twice (directly, then at the end of a redirect).
    "/products/item-1": "/about",
}


def page(title: str, *hrefs: str, body: str = "") -> web.Response:
    links = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(href)}</a></li>' for href in hrefs
    )
    text = (
        f"<!doctype html><html lang=en><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body or 'Some text about ' + title}.</p>"
        f"<ul>{links}</ul></body></html>"
    )
    return web.Response(text=text, content_type="text/html")


def urlset(*locs: str) -> str:
    entries = "".join(f"<url><loc>{html.escape(loc)}</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{entries}</urlset>'


def sitemap_index(*locs: str) -> str:
    entries = "".join(f"<sitemap><loc>{html.escape(loc)}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>{entries}</sitemapindex>'


def _origin(request: web.Request) -> str:
    return f"http://{request.host}"


async def robots_txt(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=(
            f"User-agent: *\nDisallow: /private/\nSitemap: {_origin(request)}/sitemap_index.xml\n"
        ),
        content_type="text/plain",
    )


async def index_xml(request: web.Request) -> web.StreamResponse:
    origin = _origin(request)
    body = sitemap_index(f"{origin}/sitemap-pages.xml.gz", f"{origin}/sitemap-gone.xml")
    return web.Response(text=body, content_type="application/xml")


async def pages_xml_gz(request: web.Request) -> web.StreamResponse:
    origin = _origin(request)
    body = urlset(
        f"{origin}/from-sitemap-gz",
        f"{origin}/about",
        f"{origin}/private/listed",
        "http://external.invalid/listed",
    )
    return web.Response(body=gzip.compress(body.encode()), content_type="application/gzip")


async def sitemap_xml(request: web.Request) -> web.StreamResponse:
    origin = _origin(request)
    return web.Response(
        text=urlset(f"{origin}/from-sitemap", f"{origin}/"), content_type="application/xml"
    )


async def home(request: web.Request) -> web.StreamResponse:
    return page(
        "Home",
        "/about",
        "/about?utm_source=x",
        "/about#team",
        f"HTTP://{request.host}/about",
        "/products/",
        "/products/?b=2&a=1",
        "/products/?a=1&b=2&utm_campaign=y",
        "/blog/",
        "/old",
        "/missing",
        "/files/report.pdf",
        "/files/data.csv",
        "/img/logo.png",
        "/private/secret",
        "http://external.invalid/",
        "mailto:sales@example.com",
        "javascript:void(0)",
        "/caf%c3%a9",
        "/deep/1",
    )


async def about(request: web.Request) -> web.StreamResponse:
    return page("About", "/", "/caf%C3%A9", "products/../about", "#top")


async def products(request: web.Request) -> web.StreamResponse:
    return page("Products", "item-1", "/products/item-2", "../")


async def item(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    hrefs = ["/products/", "/go-about"] if name == "1" else ["/products/"]
    return page(f"Item {name}", *hrefs)


async def blog(request: web.Request) -> web.StreamResponse:
    return page("Blog", "../about", "./post-1", "post-1?utm_medium=y&utm_source=z")


async def post(request: web.Request) -> web.StreamResponse:
    return page("Post 1", "/blog/", "/new")


async def cafe(request: web.Request) -> web.StreamResponse:
    return page("Café", "/")


async def deep(request: web.Request) -> web.StreamResponse:
    level = int(request.match_info["level"])
    hrefs = [f"/deep/{level + 1}"] if level < DEEPEST else []
    return page(f"Deep {level}", *hrefs)


async def plain(request: web.Request) -> web.StreamResponse:
    return page(request.path.strip("/").replace("-", " ").title(), "/")


def _redirect(status: int, to: str) -> web.StreamResponse:
    return web.Response(status=status, headers={"Location": to})


async def old(request: web.Request) -> web.StreamResponse:
    return _redirect(301, "/moved")


async def moved(request: web.Request) -> web.StreamResponse:
    return _redirect(302, f"{_origin(request)}/new")


async def go_about(request: web.Request) -> web.StreamResponse:
    return _redirect(301, "/about")


async def new(request: web.Request) -> web.StreamResponse:
    return page("New", "/")


async def pdf(request: web.Request) -> web.StreamResponse:
    return web.Response(
        body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
        content_type="application/pdf",
    )


async def csv(request: web.Request) -> web.StreamResponse:
    return web.Response(text="sku,price\nA1,9.99\n", content_type="text/csv")


async def png(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")


async def private(request: web.Request) -> web.StreamResponse:
    return page("Private", "/private/deeper")


def generated_site(*, gates: bool = False) -> web.Application:
    """The site described in the module docstring."""
    app = server.logged_app()
    if gates:
        server.add_gates(app, GATES)
    add = app.router.add_get
    add("/robots.txt", robots_txt)
    add("/sitemap_index.xml", index_xml)
    add("/sitemap-pages.xml.gz", pages_xml_gz)
    add("/sitemap.xml", sitemap_xml)
    add("/", home)
    add("/about", about)
    add("/products/", products)
    add("/products/item-{name}", item)
    add("/blog/", blog)
    add("/blog/post-1", post)
    add("/café", cafe)
    add("/deep/{level}", deep)
    add("/from-sitemap", plain)
    add("/from-sitemap-gz", plain)
    add("/old", old)
    add("/moved", moved)
    add("/new", new)
    add("/go-about", go_about)
    add("/files/report.pdf", pdf)
    add("/files/data.csv", csv)
    add("/img/logo.png", png)
    add("/private/{rest:.*}", private)
    return app
