"""Proxy rotation: round-robin over a crawl's proxies, benching the ones that fail.

A proxy URL may carry credentials (``http://user:secret@proxy:3128``). They are split
off when the URL is parsed: ``Proxy.url`` never contains them, the credentials travel
only as a ``Proxy-Authorization`` header value that no ``repr`` shows, and error
messages about a proxy name it by ``Proxy.url``. So secrets never reach a log line, a
job's error or a stack trace.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from scrapeyard import errors

PROXY_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class Proxy:
    """One proxy: its URL without credentials, and the header that authenticates to it."""

    url: str
    authorization: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, value: str, field_name: str = "proxy") -> Proxy:
        """A ``Proxy`` from ``http[s]://[user:password@]host:port``.

        Raises ``InvalidInput`` naming ``field_name``; the message never repeats the
        value, which may hold a password.
        """
        try:
            parts = urllib.parse.urlsplit(value.strip())
            port = parts.port
            username, password = parts.username, parts.password
        except (ValueError, AttributeError, TypeError):
            raise errors.InvalidInput(field_name, "not a valid proxy URL") from None
        if parts.scheme.lower() not in PROXY_SCHEMES:
            raise errors.InvalidInput(
                field_name, "proxies must be http:// or https:// URLs (SOCKS is not supported)"
            )
        if not parts.hostname:
            raise errors.InvalidInput(field_name, "the proxy URL has no host")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        url = f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")
        authorization = None
        if username is not None:
            credentials = urllib.parse.unquote(username) + ":"
            credentials += urllib.parse.unquote(password or "")
            authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
        return cls(url, authorization)

    def __str__(self) -> str:
        return self.url


@dataclass
class _Seat:
    proxy: Proxy
    benched_until: float = 0.0
    failures: int = 0


class ProxyRotation:
    """Hands out proxies in turn, skipping those benched after a failure.

    ``failed(proxy)`` benches a proxy for ``bench_for`` seconds; ``succeeded(proxy)``
    clears its failure count. When every proxy is benched, ``next()`` returns the one
    that comes back soonest rather than stalling the crawl or going direct.

    >>> rotation = ProxyRotation(["http://a:1", "http://b:1"], clock=lambda: 0.0)
    >>> [rotation.next().url for _ in range(3)]
    ['http://a:1', 'http://b:1', 'http://a:1']
    """

    def __init__(
        self,
        proxies: Sequence[str | Proxy],
        *,
        bench_for: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        field_name: str = "proxies",
    ) -> None:
        if isinstance(proxies, str):
            raise errors.InvalidInput(field_name, "must be a list of proxy URLs")
        if not proxies:
            raise errors.InvalidInput(field_name, "at least one proxy is needed")
        if bench_for < 0:
            raise errors.InvalidInput("bench_for", "must not be negative")
        self._seats = [
            _Seat(p if isinstance(p, Proxy) else Proxy.parse(p, f"{field_name}[{i}]"))
            for i, p in enumerate(proxies)
        ]
        self._by_url = {seat.proxy.url: seat for seat in self._seats}
        self._next = 0
        self._bench_for = bench_for
        self._clock = clock

    def __repr__(self) -> str:
        return f"ProxyRotation({[seat.proxy.url for seat in self._seats]!r})"

    def next(self) -> Proxy:
        """The next proxy that is not benched (or the one back soonest, if all are)."""
        now = self._clock()
        count = len(self._seats)
        for step in range(count):
            seat = self._seats[(self._next + step) % count]
            if seat.benched_until <= now:
                self._next = (self._next + step + 1) % count
                return seat.proxy
        return min(self._seats, key=lambda seat: seat.benched_until).proxy

    def failed(self, proxy: Proxy) -> None:
        """Bench ``proxy``: a connection through it failed."""
        seat = self._by_url.get(proxy.url)
        if seat is not None:
            seat.failures += 1
            seat.benched_until = self._clock() + self._bench_for

    def succeeded(self, proxy: Proxy) -> None:
        """``proxy`` worked: it is back in rotation with a clean record."""
        seat = self._by_url.get(proxy.url)
        if seat is not None:
            seat.failures = 0
            seat.benched_until = 0.0

    def benched(self) -> list[str]:
        """URLs (without credentials) of the proxies benched right now, for job stats."""
        now = self._clock()
        return [seat.proxy.url for seat in self._seats if seat.benched_until > now]
