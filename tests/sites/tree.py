"""Sites of many plain pages: ``/`` and ``/p/1`` ... ``/p/N-1``, linked as a tree.

Page ``i`` links to its children ``fanout * i + 1 ... fanout * i + fanout`` (those below
``pages``), to its parent and to ``/``, so every page is reachable and most links lead
to pages already found. A ``delay`` makes each page take that long to answer, so a test
can act while a crawl is under way. robots.txt answers 404 (everything allowed) unless
``robots`` gives its text; there is no sitemap.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.sites import server


def path_of(index: int) -> str:
    return "/" if index == 0 else f"/p/{index}"


def paths(pages: int) -> set[str]:
    """Every page's path."""
    return {path_of(i) for i in range(pages)}


def tree_site(
    pages: int, *, fanout: int = 4, delay: float = 0.0, robots: str | None = None
) -> web.Application:
    """A site of ``pages`` linked pages (see the module docstring)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info.get("index", "0"))
        if not 0 <= index < pages:
            raise web.HTTPNotFound()
        if delay:
            await asyncio.sleep(delay)
        children = [
            path_of(c) for c in range(fanout * index + 1, fanout * index + fanout + 1) if c < pages
        ]
        parent = path_of((index - 1) // fanout) if index else "/"
        links = "".join(f'<a href="{href}">{href}</a> ' for href in [*children, parent, "/"])
        body = (
            f"<!doctype html><html><head><title>Page {index}</title></head>"
            f"<body><h1>Page {index}</h1><p>{'Lorem ipsum dolor sit amet. ' * 20}</p>"
            f"{links}</body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def robots_txt(request: web.Request) -> web.StreamResponse:
        if robots is None:
            raise web.HTTPNotFound()
        return web.Response(text=robots, content_type="text/plain")

    app = server.logged_app()
    app.router.add_get("/", handle)
    app.router.add_get("/p/{index:\\d+}", handle)
    app.router.add_get("/robots.txt", robots_txt)
    return app
