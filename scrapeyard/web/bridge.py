"""The dashboard's session opens the API's read-only endpoints too.

A browser cannot attach ``Authorization: Bearer`` to a link or an ``EventSource``, so
a ``GET`` (or ``HEAD``) under ``/v1/`` that carries a dashboard session and no
``Authorization`` header gets the session's key as its bearer credential. The API then
checks that key as usual: scope, revocation, expiry, rate limit. This is how the
dashboard's export buttons download ``/v1/jobs/{id}/export``.

Only safe methods are bridged: a cookie never authorizes a change through the API, so
the API needs no CSRF defence of its own (the dashboard's forms have theirs).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.api import errors as api_errors
from scrapeyard.web import sessions, viewer

_SAFE = frozenset({"GET", "HEAD"})


class SessionBridge:
    """ASGI middleware: a dashboard session as the bearer key of safe API requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _bridgeable(scope):
            try:
                scope = await _with_bearer(scope)
            except errors.DatabaseError as exc:
                status, code = api_errors.status_of(exc)
                response = api_errors.envelope(
                    status,
                    code,
                    exc.message,
                    headers={"Retry-After": str(api_errors.DATABASE_RETRY_AFTER)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _bridgeable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in _SAFE:
        return False
    if not str(scope["path"]).startswith("/v1/"):
        return False
    names = {name for name, _ in scope["headers"]}
    return b"authorization" not in names and b"cookie" in names


async def _with_bearer(scope: Scope) -> Scope:
    state = getattr(scope["app"], "state", None)
    res: deps.Resources | None = getattr(state, "resources", None)
    if res is None:  # the lifespan has not opened the store (yet)
        return scope
    cookie = HTTPConnection(scope).cookies.get(sessions.COOKIE)
    opened = await viewer.open_session(res, cookie)
    if opened is None:
        return scope
    bearer = (b"authorization", b"Bearer " + opened.secret.encode())
    return {**scope, "headers": [*scope["headers"], bearer]}
