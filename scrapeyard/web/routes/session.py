"""``/login`` and ``/logout``.

The login form is guarded by a double-submit token (a random cookie echoed in the
form), since there is no session to bind a token to yet. A successful login sets the
session cookie (see ``sessions``): HTTP-only, ``SameSite=Strict``, and ``Secure``
whenever the browser can keep it (HTTPS, or this machine over plain HTTP).
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from scrapeyard import errors
from scrapeyard.api import auth, deps
from scrapeyard.queue import dashboard
from scrapeyard.web import forms, rendering, routing, sessions, viewer
from scrapeyard.web.flash import Message

router = APIRouter(route_class=routing.PageRoute)

LOGIN_COOKIE = "scrapeyard_login"
LOGIN_FORM_LIFETIME = 3600


def secure_transport(request: Request) -> bool:
    """Whether a ``Secure`` cookie will be kept: HTTPS, or loopback (a secure context)."""
    return request.url.scheme == "https" or auth.is_loopback(request.url.hostname)


def _login_page(
    request: Request, *, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    response = rendering.page(
        request,
        "login.html",
        {
            "next_url": next_url,
            "error": error,
            "login_token": token,
            "insecure": not secure_transport(request),
        },
        status=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_FORM_LIFETIME,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure_transport(request),
    )
    return response


NextUrl = Annotated[str, Query(alias="next", description="Where to go after logging in.")]


@router.get("/login")
async def login_form(request: Request, res: deps.Res, next_url: NextUrl = "/") -> Response:
    next_url = routing.safe_next(next_url)
    if await viewer.identify(res, request.cookies.get(sessions.COOKIE)) is not None:
        return rendering.redirect(next_url)
    return _login_page(request, next_url=next_url)


@router.post("/login")
async def login(request: Request, res: deps.Res) -> Response:
    form = await forms.read(request)
    next_url = routing.safe_next(form.get("next"))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = form.get(forms.FIELD)
    if not expected or not sent or not sessions.csrf_matches(sent, expected):
        raise forms.CsrfRefused()
    secret = form.get("key").strip()
    try:
        key = await auth.check(res.keys, secret)
    except errors.NotAuthenticated as exc:
        return _login_page(request, next_url=next_url, error=exc.message, status=401)
    wait = res.limiter.check(key.id)
    if wait > 0:
        raise errors.RateLimited(wait)
    digest = await dashboard.key_digest(res.keys.db, key.id)
    if digest is None:  # revoked and purged between the two reads: as good as unknown
        return _login_page(request, next_url=next_url, error="unknown API key", status=401)
    response = rendering.redirect(next_url)
    response.set_cookie(
        sessions.COOKIE,
        sessions.seal(secret, key.id, digest, now=time.time()),
        max_age=sessions.LIFETIME,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_transport(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout")
async def logout_form(request: Request, user: viewer.Viewing) -> Response:
    return rendering.page(request, "logout.html", {})


@router.post("/logout")
async def logout(request: Request, user: viewer.Viewing) -> Response:
    await forms.submitted(request, user)
    response = rendering.redirect("/login", message=Message("ok", "Logged out."))
    response.delete_cookie(
        sessions.COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_transport(request),
    )
    return response
