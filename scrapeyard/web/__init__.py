"""The dashboard: server-rendered pages over the same store, keys and scopes as the API.

``install(app)`` adds it to the API's app, after the API's routes, so that ``/v1/...``,
``/docs`` and the rest keep precedence and every other path is a page. Pages are Jinja2
templates rendered on the server; a little vanilla script (``static/dashboard.js``)
localises times, applies live updates (Server-Sent Events carrying re-rendered
sections) and helps with bulk selection. Every asset ships in the package: no CDN, no
build step. An unknown path opened in a browser gets the dashboard's 404 page
(``notfound``); API clients keep the API's JSON.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from scrapeyard.web import bridge, notfound, routes

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Serve the dashboard from ``app``: pages at ``/``, assets under ``/static``."""
    app.add_middleware(bridge.SessionBridge)
    app.mount("/static", StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(routes.router, include_in_schema=False)
    notfound.install(app)
