"""Request interception: every request a rendered page makes is made by us, or refused.

``Guard.install(context)`` routes every request of a browser context to ``Guard``. The
browser never connects anywhere itself (``runtime`` points it at a dead proxy); instead:

- a request for anything but http(s) (``file:``, ``ftp:``, ...) is refused;
- a request of a blocked type (images, fonts, media by default) is aborted unanswered;
- the page's own document is answered with the response the crawl already fetched;
- any other navigation (an iframe, a link an action clicked) goes through
  ``Transport.navigate``: robots.txt, the host's token bucket and connection cap, the
  SSRF guard. Its redirects are handed back to the browser as a page that moves on to
  the target, so that each hop is intercepted and judged again;
- sub-resources, XHR and fetch go through ``Transport.fetch``, which follows redirects
  itself, checking each hop with the SSRF guard;
- WebSockets are connected by ``Transport.websocket`` (the same guard) and bridged.

What was refused is kept per page (``PageTraffic.refused``) and reported in the record.
Requests in flight are counted per page, which is what "network idle" waits on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from scrapeyard import errors
from scrapeyard.crawl import fetcher

if TYPE_CHECKING:
    import aiohttp
    from playwright.async_api import BrowserContext, Page, Route, WebSocketRoute

log = logging.getLogger(__name__)

MAX_REQUESTS_PER_PAGE = 500
MAX_BYTES_PER_PAGE = 50 * 1024 * 1024
MAX_REFUSED_REPORTED = 20
_DROPPED_HEADERS = frozenset(
    {
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "alt-svc",
        "strict-transport-security",
    }
)
_REQUEST_HEADERS_DROPPED = frozenset(
    {"host", "connection", "content-length", "accept-encoding", "keep-alive", "upgrade"}
)
_REFUSALS = (errors.BlockedAddress, errors.UnsupportedScheme, errors.RobotsDisallowed)


class Transport(Protocol):
    """How the guard reaches the web on a page's behalf."""

    async def navigate(self, url: str, headers: Mapping[str, str]) -> fetcher.FetchResult:
        """A frame's navigation: robots.txt and politeness apply; redirects not followed."""
        ...

    async def fetch(
        self, url: str, *, method: str, headers: Mapping[str, str], data: bytes | None
    ) -> fetcher.FetchResult:
        """A sub-resource, XHR or fetch; redirects followed, each hop guarded."""
        ...

    async def websocket(
        self, url: str, headers: Mapping[str, str]
    ) -> aiohttp.ClientWebSocketResponse:
        """A WebSocket connection through the SSRF guard."""
        ...


@dataclass
class PageTraffic:
    """One page's requests while it renders."""

    document: fetcher.FetchResult | None = None
    """The page's own response, served to its first main-frame navigation."""
    in_flight: int = 0
    requests: int = 0
    bytes: int = 0
    last_change: float = field(default_factory=time.monotonic)
    refused: list[dict[str, str]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def begin(self) -> None:
        self.in_flight += 1
        self.requests += 1
        self._touch()

    def end(self) -> None:
        self.in_flight -= 1
        self._touch()

    def _touch(self) -> None:
        self.last_change = time.monotonic()
        self._changed.set()

    def refuse(self, url: str, why: BaseException | str) -> None:
        if len(self.refused) < MAX_REFUSED_REPORTED:
            kind = type(why).__name__ if isinstance(why, BaseException) else "Refused"
            self.refused.append({"url": url[:2000], "type": kind, "message": str(why)[:500]})

    async def idle(self, quiet: float, timeout: float) -> bool:
        """Wait until no request has been in flight for ``quiet`` seconds; whether that
        happened within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self.in_flight == 0 and now - self.last_change >= quiet:
                return True
            if now >= deadline:
                return False
            wait = self.last_change + quiet - now if self.in_flight == 0 else deadline - now
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(min(wait, deadline - now), 0.001)):
                    await self._changed.wait()


class Guard:
    """Answers the requests of one browser context's pages (see the module docstring)."""

    def __init__(self, transport: Transport, *, blocked_types: Iterable[str]) -> None:
        self.transport = transport
        self.blocked_types = frozenset(blocked_types)
        self._pages: dict[Page, PageTraffic] = {}
        self.websockets_refused: list[dict[str, str]] = []
        self._bridges: set[asyncio.Task[None]] = set()

    async def install(self, context: BrowserContext) -> None:
        await context.route("**/*", self._route)
        await context.route_web_socket("**/*", self._websocket)
        # Pop-ups and new windows are closed as soon as they open.
        context.on("page", self._popup)

    def watch(self, page: Page, document: fetcher.FetchResult) -> PageTraffic:
        """Start answering ``page``'s requests, its navigation with ``document``."""
        traffic = PageTraffic(document=document)
        self._pages[page] = traffic
        return traffic

    def forget(self, page: Page) -> None:
        """Stop answering ``page``'s requests (they are aborted until it is watched again)."""
        self._pages.pop(page, None)

    async def close(self) -> None:
        for task in self._bridges:
            task.cancel()
        await asyncio.gather(*self._bridges, return_exceptions=True)

    def _popup(self, page: Page) -> None:
        asyncio.ensure_future(_quietly(self._close_popup(page)))

    async def _close_popup(self, page: Page) -> None:
        if await page.opener() is not None:
            await page.close()

    async def _route(self, route: Route) -> None:
        try:
            await self._answer(route)
        except Exception as exc:  # a handler's error would only be logged by Playwright
            if not _page_gone(exc):
                log.warning("interception failed for %s: %r", route.request.url[:200], exc)
            await _quietly(route.abort("failed"))

    async def _answer(self, route: Route) -> None:
        request = route.request
        traffic = self._traffic_of(route)
        if traffic is None:
            await route.abort("blockedbyclient")
            return
        url = request.url
        if not url.startswith(("http://", "https://")):
            scheme = url.partition(":")[0]
            traffic.refuse(url, errors.UnsupportedScheme(f"{scheme}: URLs are not fetched"))
            await route.abort("blockedbyclient")
            return
        kind = request.resource_type
        if kind in self.blocked_types or kind == "eventsource":
            await route.abort("blockedbyclient")
            return
        navigation = request.is_navigation_request()
        if navigation and request.frame.parent_frame is None and traffic.document is not None:
            document, traffic.document = traffic.document, None
            await route.fulfill(
                status=document.status, headers=_response_headers(document), body=document.body
            )
            return
        if traffic.requests >= MAX_REQUESTS_PER_PAGE:
            traffic.refuse(url, f"more than {MAX_REQUESTS_PER_PAGE} requests from one page")
            await route.abort("blockedbyclient")
            return
        traffic.begin()
        try:
            await self._forward(route, traffic, navigation)
        finally:
            traffic.end()

    async def _forward(self, route: Route, traffic: PageTraffic, navigation: bool) -> None:
        request = route.request
        url = request.url
        headers = _request_headers(await request.all_headers())
        try:
            if navigation:
                result = await self.transport.navigate(url, headers)
            else:
                result = await self.transport.fetch(
                    url, method=request.method, headers=headers, data=request.post_data_buffer
                )
        except (errors.CrawlError, errors.InvalidInput) as exc:
            traffic.refuse(url, exc)
            await route.abort("blockedbyclient" if isinstance(exc, _REFUSALS) else "failed")
            return
        traffic.bytes += len(result.body)
        if traffic.bytes > MAX_BYTES_PER_PAGE:
            traffic.refuse(url, f"the page loaded more than {MAX_BYTES_PER_PAGE} bytes")
            await route.abort("blockedbyclient")
            return
        location = _location(result) if navigation else None
        if location is not None:
            # Handed to the browser as a page that moves on, so the next hop is
            # intercepted (and judged) too; a real redirect would be followed unseen.
            await route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                body=_moving_on(location),
            )
            return
        await route.fulfill(
            status=result.status, headers=_response_headers(result), body=result.body
        )

    def _traffic_of(self, route: Route) -> PageTraffic | None:
        try:
            page = route.request.frame.page
        except Exception:  # a service worker's request has no frame
            return None
        return self._pages.get(page)

    async def _websocket(self, socket: WebSocketRoute) -> None:
        url = socket.url
        try:
            server = await self.transport.websocket(url, {})
        except (errors.CrawlError, errors.InvalidInput) as exc:
            if len(self.websockets_refused) < MAX_REFUSED_REPORTED:
                self.websockets_refused.append(
                    {"url": url[:2000], "type": type(exc).__name__, "message": str(exc)[:500]}
                )
            await _quietly(socket.close(code=1008, reason="refused"))
            return
        task = asyncio.ensure_future(_bridge(socket, server))
        self._bridges.add(task)
        task.add_done_callback(self._bridges.discard)


async def _bridge(socket: WebSocketRoute, server: aiohttp.ClientWebSocketResponse) -> None:
    """Relay messages between the page's WebSocket and the server's, until one closes."""
    import aiohttp

    def to_server(message: str | bytes) -> None:
        if isinstance(message, str):
            asyncio.ensure_future(_quietly(server.send_str(message)))
        else:
            asyncio.ensure_future(_quietly(server.send_bytes(message)))

    socket.on_message(to_server)
    socket.on_close(lambda code, reason: asyncio.ensure_future(_quietly(server.close())))
    try:
        async for message in server:
            if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                socket.send(message.data)
            else:
                break
    finally:
        await _quietly(server.close())
        await _quietly(socket.close())


def _location(result: fetcher.FetchResult) -> str | None:
    if result.status not in fetcher.REDIRECT_STATUSES:
        return None
    location = result.headers.get("Location")
    if not location:
        return None
    import yarl

    try:
        return str(yarl.URL(result.final_url).join(yarl.URL(location)))
    except ValueError:
        return None


def _moving_on(location: str) -> bytes:
    target = json.dumps(location).replace("<", "\\u003c")
    return f"<!doctype html><script>location.replace({target})</script>".encode()


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in headers.items()
        if not name.startswith(":") and name.lower() not in _REQUEST_HEADERS_DROPPED
    }


def _response_headers(result: fetcher.FetchResult) -> dict[str, str]:
    """The response's headers for the browser; the body is already decoded."""
    merged: dict[str, str] = {}
    for name, value in result.headers.items():
        key = name.lower()
        if key in _DROPPED_HEADERS:
            continue
        if key in merged:
            merged[key] += ("\n" if key == "set-cookie" else ", ") + value
        else:
            merged[key] = value
    return merged


def _page_gone(exc: BaseException) -> bool:
    text = str(exc)
    return "closed" in text or "crashed" in text or "Target" in text


async def _quietly(awaitable: object) -> None:
    """Await ``awaitable``, ignoring the errors of a page or socket that went away."""
    with contextlib.suppress(Exception):
        await awaitable  # type: ignore[misc]
