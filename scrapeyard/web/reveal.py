"""A secret shown once, on the page a form redirects to ("copy it now").

Creating a webhook answers with a redirect to its page, so that reloading it creates
nothing twice; the new signing secret rides along in a cookie that only that page
receives (its ``Path``), that scripts cannot read (``HttpOnly``), that no other site's
request carries (``SameSite=Strict``) and that lives a minute at most. It is bound to
the session and the page by a MAC keyed with the session's CSRF token, so a cookie
planted by anyone else is never shown as the secret. The page shows the secret and
deletes the cookie in the same answer, so a reload shows it no more.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from fastapi.responses import Response

COOKIE = "scrapeyard_reveal"
MAX_AGE = 60


def _mac(key: str, path: str, secret: str) -> str:
    return hmac.new(key.encode(), f"{path}\n{secret}".encode(), hashlib.sha256).hexdigest()


def put(response: Response, path: str, secret: str, *, key: str, secure: bool) -> None:
    """Have ``path`` (and only it) show ``secret`` once, to the session whose CSRF
    token is ``key``."""
    response.set_cookie(
        COOKIE,
        f"{secret}.{_mac(key, path, secret)}",
        max_age=MAX_AGE,
        path=path,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


def waiting(request: Request, *, key: str) -> str | None:
    """The secret sent along to this page, if any; ``clear`` it in the same answer."""
    secret, _, mac = request.cookies.get(COOKIE, "").rpartition(".")
    if not secret or not hmac.compare_digest(mac, _mac(key, request.url.path, secret)):
        return None
    return secret


def clear(request: Request, response: Response, *, secure: bool) -> None:
    """Delete the cookie this page was sent, if any (shown or not)."""
    if COOKIE in request.cookies:
        path = request.url.path
        response.delete_cookie(COOKIE, path=path, httponly=True, samesite="strict", secure=secure)
