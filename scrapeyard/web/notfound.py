"""An unknown path opened in a browser gets the dashboard's 404 page, not the API's JSON.

Starlette answers a path no route matches by raising ``HTTPException(404)``, which the
API's handler (``api.errors``) turns into its JSON envelope. ``install`` wraps that
handler: a 404 for a path outside the API's own (``/v1/``, ``/docs``, ``/metrics``...)
requested by a browser (``Accept: text/html``) becomes the dashboard's error page, with
the navigation if the session is valid. Everything else, API clients included, still
goes to the API's handler.
"""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.web import routing, sessions, viewer

API_PATHS = ("/v1", "/metrics", "/healthz", "/readyz", "/docs", "/openapi.json")
"""Paths (and everything under them) whose 404 stays JSON whoever asks."""


def wants_page(request: Request) -> bool:
    """Whether this request is a browser's, for a path that is not the API's."""
    path = request.url.path
    if any(path == root or path.startswith(root + "/") for root in API_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


async def _not_found_page(request: Request) -> Response:
    res: deps.Resources | None = getattr(request.app.state, "resources", None)
    if res is not None:
        try:
            found = await viewer.identify(res, request.cookies.get(sessions.COOKIE))
        except errors.ScrapeyardError:  # the database is down: a page without the nav
            found = None
        request.state.viewer = found
    return routing.error_page(request, 404, f"Nothing here: {request.url.path}")


def install(app: FastAPI) -> None:
    """Answer browsers' 404s outside the API with a page; call after the API's handlers."""
    api_handler = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and wants_page(request):
            return await _not_found_page(request)
        response = api_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(HTTPException, handle)
