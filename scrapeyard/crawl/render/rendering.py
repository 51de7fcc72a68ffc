"""One page through the browser: the response the crawl fetched, rendered, waited on,
acted on, captured, and extracted from the DOM the scripts built.

The crawl has already fetched the page over HTTP (robots.txt, politeness, the SSRF
guard, redirects and retries all happened there). ``PageRenderer.process`` decides
whether the page needs the browser (``render: auto``, see ``detect``), and if so opens
it in a pooled page whose first navigation is answered with that response, so nothing
is fetched twice. Whatever goes wrong in the browser ends as a ``RenderError`` for this
page only: ``RenderTimeout``, ``RendererCrashed``, ``BrowserCrashed`` (the crawl
retries it) or ``ActionFailed``.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.crawl import fetcher
from scrapeyard.crawl.extract import Document
from scrapeyard.crawl.render import actions, detect, guard, outputs, pool, runtime, waits

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext

    from scrapeyard.crawl.frontier import Entry
    from scrapeyard.crawl.options import CrawlOptions

Extract = Callable[[Document, fetcher.FetchResult], Awaitable[tuple[dict[str, Any], list[str]]]]
"""Extracts the job's formats (and the links to follow) from a document."""
HANG_GRACE = 5.0
"""Seconds past the page's timeout before a browser call that hangs is given up on."""

SlotWaitStopped = pool.SlotWaitStopped


class PageRenderer:
    """Renders one crawl participant's pages (see the module docstring)."""

    def __init__(
        self,
        options: CrawlOptions,
        *,
        browsers: pool.BrowserPool,
        transport: guard.Transport,
        extract: Extract,
        captures: outputs.CaptureStore | None = None,
    ) -> None:
        self.options = options
        self.render = options.render
        self.config: runtime.BrowserConfig = browsers.config
        blocked = self.render.block_resources
        self.guard = guard.Guard(
            transport,
            blocked_types=self.config.block_resources if blocked is None else blocked,
        )
        self.session = browsers.session(self._new_context)
        self.extract = extract
        self.captures = captures
        self.hosts = detect.HostModes()
        self.timeout = options.timeout

    async def _new_context(self, browser: Browser) -> BrowserContext:
        viewport = self.render.viewport
        context = await browser.new_context(
            user_agent=self.options.user_agent,
            viewport={"width": viewport.width, "height": viewport.height},
            service_workers="block",
            accept_downloads=False,
        )
        await self.guard.install(context)
        if self.options.cookies:
            await context.add_cookies(
                [
                    {"name": name, "value": value, "url": start}
                    for start in self.options.urls
                    for name, value in self.options.cookies.items()
                ]
            )
        return context

    async def process(
        self, entry: Entry, result: fetcher.FetchResult, *, stop: asyncio.Event | None = None
    ) -> tuple[dict[str, Any], list[str]]:
        """The page's data and links, from the browser or (``auto``) from its HTML.

        Raises ``RenderError`` subclasses, and ``SlotWaitStopped`` when ``stop`` is set
        while the page waits for the browser.
        """
        reason = "render: always" if self.render.browser_required else None
        if reason is None:
            host = urllib.parse.urlsplit(result.final_url).netloc
            if self.hosts.browser_known(host):
                reason = "auto: this host's pages need the browser"
            else:
                header = result.headers.get("Content-Type", result.content_type)
                document = Document.from_bytes(result.body, result.final_url, header)
                reason = detect.reason_to_render(document, self.render, self.options.plan)
                self.hosts.note(host, needed=reason is not None)
                if reason is None:
                    data, links = await self.extract(document, result)
                    return {**data, "render": "http"}, links
        data, links = await self._render(entry, result, stop)
        data["render"] = "browser"
        if self.render.mode == "auto":
            data["render_reason"] = reason
        return data, links

    async def _render(
        self, entry: Entry, result: fetcher.FetchResult, stop: asyncio.Event | None
    ) -> tuple[dict[str, Any], list[str]]:
        async with self.session.page(stop) as lease:
            page = lease.page
            traffic = self.guard.watch(page, result)
            deadline = waits.Deadline(self.timeout)
            try:
                async with asyncio.timeout(self.timeout + HANG_GRACE):
                    html, url, extra = await self._in_browser(entry, lease, traffic, deadline)
            except errors.RenderError:
                lease.reusable = False
                raise
            except TimeoutError as exc:
                lease.reusable = False
                raise errors.RenderTimeout(
                    f"the page did not render within {self.timeout:g}s"
                ) from exc
            except Exception as exc:
                lease.reusable = False
                raise self._failure(lease, exc) from exc
            finally:
                self.guard.forget(page)
        document = Document(html, url)
        data, links = await self.extract(document, result)
        data.update(extra)
        if traffic.refused:
            data["refused_requests"] = traffic.refused
        return data, links

    async def _in_browser(
        self,
        entry: Entry,
        lease: pool.Lease,
        traffic: guard.PageTraffic,
        deadline: waits.Deadline,
    ) -> tuple[str, str, dict[str, Any]]:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        page = lease.page
        try:
            await page.goto(
                traffic.document.final_url if traffic.document else entry.url,
                wait_until="load",
                timeout=deadline.ms(),
            )
        except PlaywrightTimeout as exc:
            raise errors.RenderTimeout(
                f"the page did not load within {self.timeout:g}s (its scripts may never end)"
            ) from exc
        await waits.until_ready(page, traffic, self.render.wait_for, deadline)
        extra: dict[str, Any] = {}
        if self.render.actions:
            results = await actions.run(
                page,
                traffic,
                self.render.actions,
                deadline,
                allow_evaluate=self.config.allow_evaluate,
            )
            if results:
                extra["action_results"] = results
        html = await page.content()
        url = page.url
        if self.captures is not None:
            for capture in self.render.captures:
                deadline.left()
                extra[capture] = await self.captures.take(page, capture, entry.url_hash)
        return html, url, extra

    def _failure(self, lease: pool.Lease, exc: BaseException) -> errors.RenderError:
        """Our error for what the browser raised."""
        if lease.generation.dead:
            return errors.BrowserCrashed("the browser died while rendering the page")
        if self.session.crashed(lease.page) or "crash" in str(exc).lower():
            return errors.RendererCrashed(
                "the page's renderer crashed (it may have run out of memory)"
            )
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return errors.RenderError(first[:500])

    async def close(self) -> None:
        await self.session.close()
        await self.guard.close()
