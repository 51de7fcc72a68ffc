"""A small shop whose catalogue a test changes between crawls.

``/`` lists a link to ``/products/<sku>`` for every product in ``Catalogue.products``
(a dict the test edits from its own thread between runs); each product page shows its
name, SKU, price and a contact e-mail, in markup that selectors can read:

    <h1 class="name">...</h1> <span class="sku">...</span> <span class="price">...</span>

A product removed from the catalogue is no longer linked and answers 404.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field

from aiohttp import web

from tests.sites import server

SELECTORS = {"name": "h1.name::text", "sku": ".sku::text", "price": ".price::text"}
"""What a crawl of this site selects from each product page."""


@dataclass
class Product:
    name: str
    price: str
    email: str = "sales@shop.example"


@dataclass
class Catalogue:
    """The products on sale, by SKU; safe to change while the site serves."""

    products: dict[str, Product] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, products: dict[str, Product]) -> None:
        with self.lock:
            self.products = dict(products)

    def get(self, sku: str) -> Product | None:
        with self.lock:
            return self.products.get(sku)

    def skus(self) -> list[str]:
        with self.lock:
            return sorted(self.products)


def catalogue_site(catalogue: Catalogue) -> web.Application:
    """The shop's pages for ``catalogue`` (see the module docstring)."""

    async def index(request: web.Request) -> web.StreamResponse:
        links = "".join(f'<li><a href="/products/{s}">{s}</a></li>' for s in catalogue.skus())
        body = (
            "<!doctype html><html><head><title>Shop | Widgets Ltd</title></head>"
            f"<body><ul>{links}</ul></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def product(request: web.Request) -> web.StreamResponse:
        sku = request.match_info["sku"]
        found = catalogue.get(sku)
        if found is None:
            raise web.HTTPNotFound()
        body = (
            f"<!doctype html><html><head><title>{html.escape(found.name)} | Widgets Ltd"
            '</title><meta property="og:site_name" content="Widgets Ltd"></head><body>'
            f'<h1 class="name">{html.escape(found.name)}</h1>'
            f'<span class="sku">{html.escape(sku)}</span>'
            f'<span class="price">{html.escape(found.price)}</span>'
            f'<a href="mailto:{html.escape(found.email)}">mail us</a>'
            '<a href="/">all products</a></body></html>'
        )
        return web.Response(text=body, content_type="text/html")

    app = server.logged_app()
    app.router.add_get("/", index)
    app.router.add_get("/products/{sku}", product)
    return app
