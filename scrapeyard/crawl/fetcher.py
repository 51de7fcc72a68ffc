"""Fetching pages over HTTP: the hot path of every crawl, and its first line of defence.

One ``Fetcher`` holds one aiohttp ``ClientSession`` for its whole life: a pool of
keep-alive connections (``limit`` in total), a DNS cache, and the SSRF guard
(``addresses.GuardedResolver``) as its resolver. ``fetch`` then does one GET and
returns a ``FetchResult`` for any HTTP status; a status is the page's answer, not an
error. What it refuses, it raises as ``CrawlError``:

- ``UnsupportedScheme``, ``BlockedAddress``: checked before each hop's connection, the
  first one and every redirect. IP literals are checked here; host names are checked by
  the resolver, and aiohttp connects only to the addresses it let through.
- ``TooManyRedirects``: redirects are followed by hand (at most ``max_redirects``),
  and a redirect back to a URL already visited is refused at once. ``before_redirect``
  may refuse a hop (the browser's navigations ask robots.txt about each one);
  ``follow_redirects=False`` returns the redirect itself.
- ``BodyTooLarge``: ``max_body_bytes`` caps the body as read from the socket and again
  after decompression, which ``bodies`` does with bounded zlib calls rather than
  leaving it to aiohttp, so a gzip bomb stops at the limit.
  A declared ``Content-Length`` over the limit fails before reading anything.
  ``truncate=True`` keeps the first ``max_body_bytes`` instead (robots.txt wants that).
- ``FetchTimeout``: ``Timeouts.connect`` per connection attempt, ``Timeouts.read`` for
  silence on the socket, and ``Timeouts.total`` for the whole fetch, redirects and body
  included, so a server that drips a byte a second still ends in time.
- ``ConnectionFailed``: refused, reset, cut short, or the host does not resolve.

Requests carry only what they need: the User-Agent, ``Accept``, the encodings we can
decode, the caller's headers and cookies. No cookie jar is shared between fetches, and
the caller's cookies and ``Authorization`` go only to the host first asked for.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import aiohttp
import aiohttp.abc
import multidict
import yarl

from scrapeyard import errors
from scrapeyard.crawl import addresses, bodies, proxies, urls

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_USER_AGENT = "scrapeyard/0.1 (+https://github.com/scrapeyard/scrapeyard)"
MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CREDENTIAL_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")
# A redirect's own body is read (so the connection can be reused) only if this small.
_SMALL_REDIRECT_BODY = 64 * 1024

RedirectCheck = Callable[[str], Awaitable[object]]
"""Called with each redirect's target before it is requested; raises to refuse it."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, to wait for the next bytes, and for a whole fetch."""

    connect: float = 10.0
    read: float = 30.0
    total: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total"):
            if not getattr(self, name) > 0:
                raise errors.InvalidInput(f"timeout.{name}", "must be more than 0 seconds")


@dataclass(frozen=True)
class Redirect:
    """One redirect on the way to the final URL."""

    url: str
    status: int


@dataclass(frozen=True)
class FetchResult:
    """A response, read in full (or up to the limit, with ``truncate``)."""

    url: str
    """The URL asked for."""
    final_url: str
    """The URL that answered, after redirects."""
    status: int
    headers: multidict.CIMultiDictProxy[str] = field(repr=False)
    body: bytes = field(repr=False)
    """Decompressed."""
    content_type: str
    """The media type, lower-case, without parameters; ``""`` when not sent."""
    charset: str | None
    """The ``charset`` parameter of ``Content-Type``, if any."""
    elapsed: float
    """Seconds from the first request to the end of the last body."""
    redirects: tuple[Redirect, ...] = ()
    bytes_read: int = 0
    """Bytes of the final body as they came off the wire (compressed size, if it was)."""
    truncated: bool = False
    """The body was cut at the limit (only with ``truncate=True``)."""

    @property
    def is_html(self) -> bool:
        """Whether the server says this is HTML (the only type the crawl parses)."""
        return self.content_type in HTML_TYPES


def _display(url: yarl.URL | str) -> str:
    """A URL fit for an error message: without user name and password."""
    if isinstance(url, str):
        try:
            url = yarl.URL(url)
        except ValueError:
            return "<invalid URL>"
    return str(url.with_user(None)) if url.raw_user or url.raw_password else str(url)


def _parse_target(url: str | yarl.URL) -> yarl.URL:
    if len(str(url)) > urls.MAX_URL_LENGTH:
        raise errors.InvalidInput("url", f"the URL is longer than {urls.MAX_URL_LENGTH} characters")
    try:
        target = url if isinstance(url, yarl.URL) else yarl.URL(url)
        scheme, host = target.scheme, target.raw_host
        _ = target.port
    except (ValueError, TypeError) as exc:
        raise errors.InvalidInput("url", f"not a valid URL ({exc})") from exc
    if scheme not in ("http", "https"):
        raise errors.UnsupportedScheme(
            f"{scheme or 'relative'}: URLs are not fetched; only http and https"
        )
    if not host:
        raise errors.InvalidInput("url", "the URL has no host")
    return target


def _media_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset


class Fetcher:
    """Fetches pages through one shared connection pool, within limits and the SSRF guard.

    Use it as an async context manager (or call ``close()``); one per worker process
    is plenty, it is safe to share between concurrent tasks.

    >>> async def title_page(policy):  # doctest: +SKIP
    ...     async with Fetcher(policy) as fetcher:
    ...         result = await fetcher.fetch("https://example.com/")
    ...         return result.status, result.body[:60]
    """

    def __init__(
        self,
        policy: addresses.AddressPolicy,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeouts: Timeouts = Timeouts(),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        limit: int = 100,
        limit_per_host: int = 0,
        dns_cache_ttl: float = 60.0,
        verify_tls: bool = True,
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ) -> None:
        if max_body_bytes < 1:
            raise errors.InvalidInput("max_body_bytes", "must be at least 1")
        self.policy = policy
        self.user_agent = user_agent
        self.timeouts = timeouts
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.resolver = addresses.GuardedResolver(policy, resolver)
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._dns_cache_ttl = dns_cache_ttl
        self._verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._client_timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}
        self._default_headers = self._headers(user_agent, None)

    async def __aenter__(self) -> Self:
        self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise RuntimeError("the fetcher is closed")
            connector = aiohttp.TCPConnector(
                resolver=self.resolver,
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                use_dns_cache=True,
                ttl_dns_cache=int(self._dns_cache_ttl),
                ssl=self._verify_tls,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        """Close every connection. The fetcher cannot be used afterwards."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await self.resolver.close()

    @staticmethod
    def _headers(
        user_agent: str, extra: Mapping[str, str] | None
    ) -> multidict.CIMultiDictProxy[str]:
        headers = multidict.CIMultiDict({"User-Agent": user_agent, "Accept": ACCEPT})
        if extra:
            headers.update(extra)
        # Only encodings we decode, with a bounded decoder, whatever the caller asked.
        headers["Accept-Encoding"] = bodies.ACCEPT_ENCODING
        return multidict.CIMultiDictProxy(headers)

    async def websocket(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        user_agent: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> aiohttp.ClientWebSocketResponse:
        """Open a WebSocket to ``url`` (``ws:`` or ``wss:``), guarded like ``fetch``: an
        IP literal is judged here, a name by the resolver as it connects."""
        timeouts = timeouts or self.timeouts
        try:
            target = yarl.URL(url)
            host = target.raw_host
        except ValueError as exc:
            raise errors.InvalidInput("url", f"not a valid URL ({exc})") from exc
        if target.scheme not in ("ws", "wss"):
            raise errors.UnsupportedScheme(f"{target.scheme}: is not a WebSocket URL")
        if not host:
            raise errors.InvalidInput("url", "the URL has no host")
        self.policy.check_host(host)
        request_headers = multidict.CIMultiDict(headers or {})
        request_headers["User-Agent"] = user_agent or self.user_agent
        try:
            async with asyncio.timeout(timeouts.total):
                return await self._open().ws_connect(
                    target, headers=request_headers, autoping=True, max_msg_size=self.max_body_bytes
                )
        except TimeoutError as exc:
            raise errors.FetchTimeout(
                f"{_display(target)}: no WebSocket within {timeouts.total:g}s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise errors.ConnectionFailed(
                f"{_display(target)}: {type(exc).__name__}: {exc}"
            ) from exc

    def _client_timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        client_timeout = self._client_timeouts.get(timeouts)
        if client_timeout is None:
            # ``total`` is enforced around the whole fetch (all hops), not per request.
            client_timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=timeouts.connect, sock_read=timeouts.read
            )
            self._client_timeouts[timeouts] = client_timeout
        return client_timeout

    async def fetch(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        proxy: proxies.Proxy | None = None,
        timeouts: Timeouts | None = None,
        max_body_bytes: int | None = None,
        user_agent: str | None = None,
        max_redirects: int | None = None,
        truncate: bool = False,
        method: str = "GET",
        data: bytes | None = None,
        follow_redirects: bool = True,
        before_redirect: RedirectCheck | None = None,
    ) -> FetchResult:
        """GET ``url``, following redirects; the response, whatever its status.

        ``headers`` are added to (and may replace) the defaults; ``user_agent``
        replaces the fetcher's. ``None`` for a limit means the fetcher's default.
        ``method`` and ``data`` make another request than a GET (the browser's XHRs);
        a redirect followed turns it into a GET unless it is a 307 or 308.
        Raises ``InvalidInput`` for a malformed URL, and the ``CrawlError`` subclasses
        listed in the module docstring.
        """
        timeouts = timeouts or self.timeouts
        if headers or (user_agent and user_agent != self.user_agent):
            request_headers = self._headers(user_agent or self.user_agent, headers)
        else:
            request_headers = self._default_headers
        attempt = _Fetch(
            fetcher=self,
            url=url,
            headers=request_headers,
            cookies=cookies,
            proxy=proxy,
            timeout=self._client_timeout(timeouts),
            limit=self.max_body_bytes if max_body_bytes is None else max_body_bytes,
            truncate=truncate,
            method=method,
            data=data,
            follow_redirects=follow_redirects,
            before_redirect=before_redirect,
        )
        try:
            async with asyncio.timeout(timeouts.total):
                return await attempt.follow(
                    self.max_redirects if max_redirects is None else max_redirects
                )
        except TimeoutError as exc:
            where = _display(attempt.target or url)
            raise errors.FetchTimeout(
                f"{where}: no complete response within {timeouts.total:g}s"
            ) from exc


@dataclass
class _Fetch:
    """The state of one ``fetch`` as it follows redirects."""

    fetcher: Fetcher
    url: str
    headers: multidict.CIMultiDictProxy[str]
    cookies: Mapping[str, str] | None
    proxy: proxies.Proxy | None
    timeout: aiohttp.ClientTimeout
    limit: int
    truncate: bool
    method: str = "GET"
    data: bytes | None = None
    follow_redirects: bool = True
    before_redirect: RedirectCheck | None = None
    target: yarl.URL | None = None

    async def follow(self, max_redirects: int) -> FetchResult:
        started = time.perf_counter()
        first = self.target = _parse_target(self.url)
        first_host = first.host
        redirects: list[Redirect] = []
        seen = {str(first)}
        while True:
            same_host = self.target.host == first_host
            await self._check(self.target)
            async with await self._request(self.target, same_host) as response:
                location = self._redirect_location(response)
                if location is not None and not self.follow_redirects:
                    await self._discard(response)
                    return self._redirect_result(response, redirects, started)
                if location is None:
                    body = await self._read(response)
                    content_type, charset = _media_type(response.headers.get("Content-Type"))
                    return FetchResult(
                        url=self.url,
                        final_url=str(self.target),
                        status=response.status,
                        headers=response.headers,
                        body=body.data,
                        content_type=content_type,
                        charset=charset,
                        elapsed=time.perf_counter() - started,
                        redirects=tuple(redirects),
                        bytes_read=body.wire_bytes,
                        truncated=body.overflowed,
                    )
                await self._discard(response)
            redirects.append(Redirect(str(self.target), response.status))
            if str(location) in seen:
                raise errors.TooManyRedirects(
                    f"{_display(first)}: redirect loop back to {_display(location)}"
                )
            if len(redirects) > max_redirects:
                raise errors.TooManyRedirects(
                    f"{_display(first)}: more than {max_redirects} redirects"
                )
            seen.add(str(location))
            if self.before_redirect is not None:
                await self.before_redirect(str(location))
            if response.status == 303 or (
                response.status in (301, 302) and self.method not in ("GET", "HEAD")
            ):
                self.method, self.data = "GET", None
            self.target = location

    def _redirect_result(
        self, response: aiohttp.ClientResponse, redirects: list[Redirect], started: float
    ) -> FetchResult:
        """A redirect returned as it is (``follow_redirects=False``), without its body."""
        content_type, charset = _media_type(response.headers.get("Content-Type"))
        return FetchResult(
            url=self.url,
            final_url=str(self.target),
            status=response.status,
            headers=response.headers,
            body=b"",
            content_type=content_type,
            charset=charset,
            elapsed=time.perf_counter() - started,
            redirects=tuple(redirects),
        )

    async def _check(self, target: yarl.URL) -> None:
        """Refuse a hop the SSRF guard forbids, before any connection is made."""
        host = target.raw_host
        assert host is not None
        policy = self.fetcher.policy
        policy.check_host(host)
        if self.proxy is None:
            return
        # A proxy named by a job is held to the same rules as a page (its host names
        # are checked by the resolver when aiohttp connects to it).
        policy.check_host(yarl.URL(self.proxy.url).raw_host or "")
        if addresses.parse_address(host) is None:
            # Through a proxy, the proxy resolves the page's host and connects to it; the
            # best we can do is to refuse names that resolve to forbidden addresses here.
            try:
                await self.fetcher.resolver.resolve(host, target.port or 0, socket.AF_UNSPEC)
            except OSError as exc:
                raise errors.ConnectionFailed(f"cannot resolve {host}: {exc}") from exc

    async def _request(self, target: yarl.URL, same_host: bool) -> aiohttp.ClientResponse:
        headers: Mapping[str, str] = self.headers
        if not same_host and any(name in headers for name in _CREDENTIAL_HEADERS):
            stripped = multidict.CIMultiDict(headers)
            for name in _CREDENTIAL_HEADERS:
                stripped.popall(name, None)
            headers = stripped
        proxy_url = proxy_headers = None
        if self.proxy is not None:
            proxy_url = self.proxy.url
            if self.proxy.authorization and target.scheme == "https":
                # Goes on the CONNECT request only, never through the tunnel.
                proxy_headers = {"Proxy-Authorization": self.proxy.authorization}
            elif self.proxy.authorization:
                # Plain http is sent to the proxy itself, so the header goes along.
                headers = multidict.CIMultiDict(headers)
                headers["Proxy-Authorization"] = self.proxy.authorization
        try:
            return await self.fetcher._open().request(
                self.method,
                target,
                data=self.data,
                headers=headers,
                cookies=self.cookies if same_host else None,
                allow_redirects=False,
                proxy=proxy_url,
                proxy_headers=proxy_headers,
                timeout=self.timeout,
            )
        except (aiohttp.ClientError, OSError) as exc:
            raise self._translate(exc, target) from exc

    def _redirect_location(self, response: aiohttp.ClientResponse) -> yarl.URL | None:
        if response.status not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("Location")
        if not location:
            return None
        assert self.target is not None
        try:
            return _parse_target(self.target.join(yarl.URL(location)))
        except (ValueError, errors.InvalidInput) as exc:
            raise errors.FetchError(
                f"{_display(self.target)} redirected to an invalid URL"
            ) from exc

    async def _discard(self, response: aiohttp.ClientResponse) -> None:
        """Finish with a redirect response, keeping its connection when that is cheap."""
        length = response.content_length
        if length is not None and length <= _SMALL_REDIRECT_BODY:
            try:
                await response.read()
            except (aiohttp.ClientError, OSError):
                response.close()
        else:
            response.close()

    async def _read(self, response: aiohttp.ClientResponse) -> bodies.Body:
        """The body within the limit: an error past it, unless truncating was asked for."""
        length = response.content_length
        if length is not None and length > self.limit and not self.truncate:
            response.close()
            raise self._too_large(f"is {length} bytes (Content-Length),")
        try:
            body = await bodies.read(response, self.limit)
        except (aiohttp.ClientError, OSError) as exc:
            raise self._translate(exc, self.target) from exc
        if body.overflowed:
            # The rest was not read: the connection cannot be reused.
            response.close()
            if not self.truncate:
                raise self._too_large("is decompressed to" if body.decoded else "is")
        return body

    def _too_large(self, how: str) -> errors.BodyTooLarge:
        return errors.BodyTooLarge(
            f"{_display(self.target or self.url)}: the body {how} "
            f"over the limit of {self.limit} bytes"
        )

    def _translate(self, exc: BaseException, target: yarl.URL | None) -> errors.CrawlError:
        """Our error for an aiohttp (or socket) error raised while fetching ``target``."""
        url = _display(target or self.url)
        where = f"{target.host}:{target.port}" if target is not None else url
        proxy = self.proxy.url if self.proxy is not None else None
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            timeout = self.timeout.sock_connect
            return errors.FetchTimeout(
                f"{url}: connecting to {proxy or where} took longer than {timeout:g}s"
            )
        if isinstance(exc, asyncio.TimeoutError):
            timeout = self.timeout.sock_read
            return errors.FetchTimeout(f"{url}: the server sent nothing for {timeout:g}s")
        if isinstance(exc, aiohttp.ClientProxyConnectionError):
            return errors.ConnectionFailed(
                f"{url}: cannot connect to proxy {proxy} ({_reason(exc)})"
            )
        if isinstance(exc, aiohttp.ClientHttpProxyError):
            return errors.ConnectionFailed(f"{url}: proxy {proxy} answered {exc.status}")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            return errors.ConnectionFailed(f"{url}: invalid TLS certificate ({_reason(exc)})")
        if isinstance(exc, aiohttp.ClientConnectorError):
            if isinstance(exc.os_error, socket.gaierror):
                return errors.ConnectionFailed(f"{url}: cannot resolve {exc.host} ({_reason(exc)})")
            return errors.ConnectionFailed(f"{url}: cannot connect to {where} ({_reason(exc)})")
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return errors.ConnectionFailed(f"{url}: the server closed the connection")
        if isinstance(exc, aiohttp.ClientPayloadError):
            return errors.ConnectionFailed(f"{url}: the connection broke before the body ended")
        if isinstance(exc, aiohttp.InvalidURL):
            return errors.FetchError(f"{url}: not a URL aiohttp accepts")
        if isinstance(exc, aiohttp.ClientResponseError):
            detail = " ".join(str(exc.message).split())[:200] or str(exc.status)
            return errors.FetchError(f"{url}: not a valid HTTP response ({detail})")
        return errors.ConnectionFailed(f"{url}: {type(exc).__name__}: {exc}")


def _reason(exc: aiohttp.ClientConnectorError) -> str:
    return exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
