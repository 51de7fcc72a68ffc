"""A small shop to crawl, generated in memory and served on loopback by ``scrapeyard demo``.

Everything a crawler meets on a real site, in a few hundred pages: categories with
pagination, product pages with a title, price and SKU to select and JSON-LD, a
robots.txt that keeps crawlers out of the cart and the account pages, a sitemap, a
redirect, a page that no longer exists, and links to other sites (never followed).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from aiohttp import web

CATEGORIES = ("kitchen", "garden", "audio", "books", "outdoor", "office")
ADJECTIVES = ("Compact", "Classic", "Portable", "Sturdy", "Quiet", "Bright", "Folding", "Smart")
NOUNS = ("Kettle", "Lamp", "Speaker", "Chair", "Notebook", "Planter", "Tent", "Grinder", "Desk")
PER_PAGE = 12
SELECTORS = {
    "title": "h1.product-title::text",
    "price": "span.price::text",
    "sku": "span.sku::text",
}


@dataclass(frozen=True)
class Product:
    number: int
    category: str
    name: str
    price: str
    sku: str

    @property
    def path(self) -> str:
        return f"/products/{self.number}"


def catalogue(products: int, seed: int = 7) -> list[Product]:
    """The same products every time for a given size and seed."""
    rng = random.Random(seed)
    return [
        Product(
            number=n,
            category=CATEGORIES[n % len(CATEGORIES)],
            name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n:03d}",
            price=f"€{rng.randint(5, 400)}.{rng.randint(0, 99):02d}",
            sku=f"SY-{n:05d}",
        )
        for n in range(1, products + 1)
    ]


def _page(title: str, body: str) -> web.Response:
    nav = "".join(f'<a href="/c/{c}/">{c.title()}</a> ' for c in CATEGORIES)
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} | Demo Shop</title>"
        f"<meta name='description' content='{title} at the Demo Shop.'></head><body>"
        f"<header><a href='/'>Demo Shop</a> <nav>{nav}</nav> <a href='/cart'>Cart</a> "
        f"<a href='/account/login'>Account</a></header><main>{body}</main>"
        "<footer><a href='/about'>About</a> <a href='/old-about'>Old about page</a> "
        "<a href='https://example.org/partner'>Our partner</a></footer></body></html>"
    )
    return web.Response(text=html, content_type="text/html")


def demo_site(products: int = 240) -> web.Application:
    """The shop as an aiohttp app."""
    items = catalogue(products)
    by_number = {product.number: product for product in items}

    async def home(request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="/c/{c}/">{c.title()}</a></li>' for c in CATEGORIES)
        return _page("Welcome", f"<h1>Demo Shop</h1><ul>{links}</ul>")

    async def category(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in CATEGORIES:
            raise web.HTTPNotFound()
        page = (
            int(request.query.get("page", "1")) if request.query.get("page", "1").isdigit() else 1
        )
        listed = [p for p in items if p.category == name]
        shown = listed[(page - 1) * PER_PAGE : page * PER_PAGE]
        if not shown and page != 1:
            raise web.HTTPNotFound()
        rows = "".join(f'<li><a href="{p.path}">{p.name}</a> {p.price}</li>' for p in shown)
        more = (
            f'<a rel="next" href="/c/{name}/?page={page + 1}">Next page</a>'
            if page * PER_PAGE < len(listed)
            else ""
        )
        return _page(
            f"{name.title()}, page {page}", f"<h1>{name.title()}</h1><ul>{rows}</ul>{more}"
        )

    async def product(request: web.Request) -> web.Response:
        found = by_number.get(int(request.match_info["number"]))
        if found is None:
            raise web.HTTPNotFound()
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": found.name,
            "sku": found.sku,
            "offers": {"@type": "Offer", "price": found.price[1:], "priceCurrency": "EUR"},
        }
        related = [by_number.get(found.number + step) for step in (1, 2, 7)]
        links = "".join(f'<a href="{p.path}">{p.name}</a> ' for p in related if p is not None)
        body = (
            f"<h1 class='product-title'>{found.name}</h1>"
            f"<p>Price: <span class='price'>{found.price}</span></p>"
            f"<p>SKU: <span class='sku'>{found.sku}</span></p>"
            f"<p>Call us on +49 30 1234567 or write to shop@example.com.</p>"
            f"<script type='application/ld+json'>{json.dumps(data)}</script>"
            f"<p>Related: {links}</p><a href='/cart?add={found.number}'>Add to cart</a>"
        )
        return _page(found.name, body)

    async def about(request: web.Request) -> web.Response:
        return _page("About", "<h1>About</h1><p>A shop that exists only for demos.</p>")

    async def old_about(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/about")

    async def robots(request: web.Request) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        text = (
            f"User-agent: *\nDisallow: /cart\nDisallow: /account/\nSitemap: {origin}/sitemap.xml\n"
        )
        return web.Response(text=text, content_type="text/plain")

    async def sitemap(request: web.Request) -> web.Response:
        origin = f"{request.scheme}://{request.host}"
        urls = "".join(f"<url><loc>{origin}{p.path}</loc></url>" for p in items)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        return web.Response(text=xml, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/c/{name}/", category)
    app.router.add_get("/products/{number:\\d+}", product)
    app.router.add_get("/about", about)
    app.router.add_get("/old-about", old_about)
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/sitemap.xml", sitemap)
    return app


async def start(products: int = 240) -> tuple[web.AppRunner, str]:
    """Serve the shop on a free loopback port; the runner (to clean up) and its URL."""
    runner = web.AppRunner(demo_site(products), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"
