"""Session cookies: the key sealed so that only this service opens it, for a while."""

from __future__ import annotations

import hashlib

import pytest

from scrapeyard.web import sessions

SECRET = "sy_" + "k" * 43
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()
NOW = 1_700_000_000.0


def test_a_sealed_session_opens_to_its_key_and_never_shows_it() -> None:
    cookie = sessions.seal(SECRET, 7, DIGEST, now=NOW)
    assert SECRET not in cookie and SECRET[3:20] not in cookie
    sealed = sessions.parse(cookie)
    assert sealed is not None and sealed.key_id == 7
    assert sessions.unseal(sealed, DIGEST, now=NOW + 60) == SECRET


def test_each_login_seals_differently() -> None:
    assert sessions.seal(SECRET, 7, DIGEST, now=NOW) != sessions.seal(SECRET, 7, DIGEST, now=NOW)


def test_an_expired_session_does_not_open() -> None:
    sealed = sessions.parse(sessions.seal(SECRET, 7, DIGEST, now=NOW, lifetime=60))
    assert sealed is not None
    assert sessions.unseal(sealed, DIGEST, now=NOW + 61) is None


def test_a_session_opens_only_with_its_own_keys_digest() -> None:
    sealed = sessions.parse(sessions.seal(SECRET, 7, DIGEST, now=NOW))
    assert sealed is not None
    other = hashlib.sha256(b"sy_another").hexdigest()
    assert sessions.unseal(sealed, other, now=NOW) is None


@pytest.mark.parametrize("part", [1, 2, 3, 4, 5])
def test_any_change_to_the_cookie_is_refused(part: int) -> None:
    cookie = sessions.seal(SECRET, 7, DIGEST, now=NOW)
    pieces = cookie.split(".")
    if part in (1, 2):  # the key id, the expiry
        pieces[part] = str(int(pieces[part]) + 1)
    else:
        pieces[part] = ("A" if pieces[part][0] != "A" else "B") + pieces[part][1:]
    sealed = sessions.parse(".".join(pieces))
    assert sealed is None or sessions.unseal(sealed, DIGEST, now=NOW) is None


@pytest.mark.parametrize(
    "cookie", ["", "v1", "v2.1.2.a.b.c", "v1.x.1.a.b.c", "v1.1.1.!!.b.c", "v1.1.1.AAAA.b.c"]
)
def test_malformed_cookies_are_not_sessions(cookie: str) -> None:
    assert sessions.parse(cookie) is None


def test_csrf_tokens_are_bound_to_the_session() -> None:
    first = sessions.parse(sessions.seal(SECRET, 7, DIGEST, now=NOW))
    second = sessions.parse(sessions.seal(SECRET, 7, DIGEST, now=NOW))
    assert first is not None and second is not None
    token = sessions.csrf_token(first, DIGEST)
    assert sessions.csrf_matches(token, sessions.csrf_token(first, DIGEST))
    assert not sessions.csrf_matches(token, sessions.csrf_token(second, DIGEST))
