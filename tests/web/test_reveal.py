"""A new secret shown once: only on its page, only to the session that made it."""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi import Request
from fastapi.responses import Response

from scrapeyard.web import reveal

SECRET = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


def request(path: str, cookie: str | None) -> Request:
    headers = [(b"cookie", f"{reveal.COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "method": "GET", "path": path, "headers": headers})


def sent(path: str, key: str) -> str:
    response = Response()
    reveal.put(response, path, SECRET, key=key, secure=True)
    jar = SimpleCookie(response.headers["set-cookie"])
    morsel = jar[reveal.COOKIE]
    assert (morsel["path"], morsel["samesite"], morsel["max-age"]) == (path, "strict", "60")
    assert morsel["httponly"] and morsel["secure"]
    return morsel.value


def test_the_secret_reaches_its_page_in_the_session_that_made_it() -> None:
    cookie = sent("/webhooks/7", key="csrf-of-this-session")
    assert reveal.waiting(request("/webhooks/7", cookie), key="csrf-of-this-session") == SECRET


def test_another_session_another_page_or_a_planted_cookie_shows_nothing() -> None:
    cookie = sent("/webhooks/7", key="csrf-of-this-session")
    assert reveal.waiting(request("/webhooks/7", cookie), key="csrf-of-another") is None
    assert reveal.waiting(request("/webhooks/8", cookie), key="csrf-of-this-session") is None
    planted = f"whsec_planted.{'0' * 64}"
    assert reveal.waiting(request("/webhooks/7", planted), key="csrf-of-this-session") is None
    assert reveal.waiting(request("/webhooks/7", None), key="csrf-of-this-session") is None


def test_the_page_deletes_the_cookie_whether_it_showed_it_or_not() -> None:
    response = Response()
    reveal.clear(request("/webhooks/7", "anything"), response, secure=True)
    deleted = SimpleCookie(response.headers["set-cookie"])[reveal.COOKIE]
    assert (deleted.value, deleted["path"], deleted["max-age"]) == ("", "/webhooks/7", "0")
    untouched = Response()
    reveal.clear(request("/webhooks/7", None), untouched, secure=True)
    assert "set-cookie" not in untouched.headers
