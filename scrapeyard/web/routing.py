"""How dashboard routes fail: as HTML pages, never as the API's JSON envelopes.

``PageRoute`` wraps each dashboard route. A request without a session goes to the login
page (and comes back afterwards); scrapeyard's errors become a page with the status the
API would have answered (404 unknown job, 403 scope too narrow, 409 impossible
transition, 429, 503); a missing CSRF token is a 403.

The session cookie is ``SameSite=Strict``, so a link followed from another site (a chat
message, an e-mail) arrives without it. Rather than ask a logged-in person to log in
again, such a request gets a page that reloads itself at once: the reload comes from
this site, so the cookie goes along.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from scrapeyard import errors
from scrapeyard.api import errors as api_errors
from scrapeyard.web import forms, rendering, viewer

log = logging.getLogger("scrapeyard.web")

_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Database unavailable",
}


def safe_next(target: str | None) -> str:
    """A local path to return to after logging in; anything else becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 for char in target):
        return "/"
    return target


def error_page(
    request: Request, status: int, message: str, *, retry_after: int | None = None
) -> Response:
    response = rendering.page(
        request,
        "error.html",
        {"status": status, "title": _TITLES.get(status, "Error"), "message": message},
        status=status,
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site":
        return rendering.page(request, "bounce.html", {"target": here})
    target = here if request.method == "GET" else "/"
    query = urllib.parse.urlencode({"next": safe_next(target)}) if target != "/" else ""
    return rendering.redirect("/login" + (f"?{query}" if query else ""))


class PageRoute(APIRoute):
    """A dashboard route: HTML error pages, and a way to the login page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except viewer.LoginRequired:
                return login_redirect(request)
            except forms.CsrfRefused:
                return error_page(
                    request,
                    403,
                    "This form was not sent from a page of this dashboard (its CSRF token "
                    "is missing or wrong). Reload the page and try again.",
                )
            except RequestValidationError:
                return error_page(request, 404, f"Nothing here: {request.url.path}")
            except errors.RateLimited as exc:
                return error_page(request, 429, exc.message, retry_after=exc.retry_after)
            except errors.DatabaseError as exc:
                retry = api_errors.DATABASE_RETRY_AFTER
                return error_page(request, 503, exc.message, retry_after=retry)
            except errors.ScrapeyardError as exc:
                status, _code = api_errors.status_of(exc)
                if status >= 500:
                    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
                    return error_page(request, 500, "The server log has the details.")
                return error_page(request, status, exc.message)

        return handle
