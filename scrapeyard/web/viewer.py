"""Who is looking: the session cookie opened into an API key, checked like a bearer key.

Pages take a ``Viewing`` argument: a request without a valid session is sent to the
login page, one over the key's rate limit gets a 429 page. What a viewer may do comes
from the key's scope alone; templates ask ``viewer.can_write`` / ``viewer.can_admin``
to decide which buttons to draw, and the routes that act check the scope again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from scrapeyard import errors
from scrapeyard.api import auth, deps
from scrapeyard.queue import dashboard, keys
from scrapeyard.web import sessions


class LoginRequired(Exception):
    """No valid session: the page answers with a way to the login page."""


@dataclass(frozen=True)
class Viewer:
    """A logged-in person: the API key of their session, and its CSRF token."""

    key: keys.ApiKey
    csrf: str

    @property
    def can_write(self) -> bool:
        return self.key.scope.allows(keys.Scope.WRITE)

    @property
    def can_admin(self) -> bool:
        return self.key.scope.allows(keys.Scope.ADMIN)

    def require(self, scope: keys.Scope) -> None:
        """Raise ``NotPermitted`` unless the key's scope covers ``scope``."""
        auth.permit(self.key, scope)


@dataclass(frozen=True)
class Opened:
    """A session cookie that verified: the key inside it, not yet authenticated."""

    secret: str
    sealed: sessions.Sealed
    digest: str


async def open_session(res: deps.Resources, cookie: str | None) -> Opened | None:
    """The key sealed in ``cookie``, if the cookie is a live session of an existing key."""
    if not cookie:
        return None
    sealed = sessions.parse(cookie)
    if sealed is None:
        return None
    digest = await dashboard.key_digest(res.keys.db, sealed.key_id)
    if digest is None:
        return None
    secret = sessions.unseal(sealed, digest, now=time.time())
    if secret is None:
        return None
    return Opened(secret, sealed, digest)


async def identify(res: deps.Resources, cookie: str | None) -> Viewer | None:
    """The viewer of a session cookie, or ``None`` (no session, bad cookie, key not active)."""
    opened = await open_session(res, cookie)
    if opened is None:
        return None
    try:
        key = await auth.check(res.keys, opened.secret)
    except errors.NotAuthenticated:
        return None
    if key.id != opened.sealed.key_id:
        return None
    return Viewer(key, sessions.csrf_token(opened.sealed, opened.digest))


async def current_viewer(request: Request, res: deps.Res) -> Viewer:
    """The dependency pages use: the viewer, or ``LoginRequired``."""
    found = await identify(res, request.cookies.get(sessions.COOKIE))
    if found is None:
        raise LoginRequired()
    wait = res.limiter.check(found.key.id)
    if wait > 0:
        raise errors.RateLimited(wait)
    request.state.viewer = found
    return found


Viewing = Annotated[Viewer, Depends(current_viewer)]
