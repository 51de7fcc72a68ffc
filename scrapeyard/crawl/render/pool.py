"""One browser per worker process, shared by its jobs, bounded, and replaced when worn.

``BrowserPool`` starts Playwright's driver and Chromium on first use. At most
``max_pages`` pages render at once in the process, whatever the number of jobs. A browser
is retired (it finishes the pages it is rendering, then closes) after
``restart_after_pages`` pages or once its processes use more than ``memory_limit_mb``;
the next page starts a fresh one. A browser that dies is replaced the same way: only the
pages it was rendering fail.

``RenderSession`` is one job's share: its own browser context (a fresh profile: no
cookies, storage or cache from any other job), whose pages are reused from one URL to
the next (a navigation replaces the document; a fresh page per URL would cost a new
renderer process each time). A page that timed out, crashed or failed is closed rather
than reused. The session's context is closed when the job is done with it.

    pool = BrowserPool(BrowserConfig())
    session = pool.session(new_context)
    async with session.page(stop) as lease:
        await lease.page.goto(url)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapeyard.crawl.render import runtime

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

log = logging.getLogger(__name__)

MEMORY_CHECK_EVERY = 20
"""Pages between two measurements of the browser's memory."""
CLOSE_TIMEOUT = 10.0
PAGE_USES = 10
"""Renders one page serves before it is closed: a renderer's memory creeps up as it
navigates, and a fresh page (a fresh renderer process) gives it all back."""

NewContext = Callable[["Browser"], Awaitable["BrowserContext"]]


class SlotWaitStopped(Exception):
    """The caller's ``stop`` event was set while waiting for a page slot."""


class Generation:
    """One launched browser and what it has done."""

    def __init__(self, launched: runtime.Launched, number: int) -> None:
        self.launched = launched
        self.number = number
        self.rendered = 0
        self.in_flight = 0
        self.retiring = False
        self.dead = False
        self.closing: asyncio.Task[None] | None = None
        launched.browser.on("disconnected", self._disconnected)

    @property
    def browser(self) -> Browser:
        return self.launched.browser

    @property
    def usable(self) -> bool:
        return not (self.dead or self.retiring)

    def _disconnected(self, _browser: object) -> None:
        if not self.retiring:
            log.warning("the browser (#%d) died; starting another", self.number)
        self.dead = True


@dataclass
class Lease:
    """A page lent to one render; set ``reusable`` to False to have it closed after."""

    page: Page
    generation: Generation
    reusable: bool = True
    crashed: bool = False


class BrowserPool:
    """The worker process's browser (see the module docstring)."""

    def __init__(self, config: runtime.BrowserConfig) -> None:
        self.config = config
        self._slots = asyncio.Semaphore(config.max_pages)
        self._driver: Playwright | None = None
        self._driver_manager: Any = None
        self._current: Generation | None = None
        self._generations: set[Generation] = set()
        self._lock = asyncio.Lock()
        self._blackhole = runtime.Blackhole()
        self._closed = False
        self.launches = 0
        """Browsers started so far (a restart or a crash adds one)."""

    def check(self) -> None:
        """Raise ``BrowserUnavailable`` (saying how to fix it) if no browser can start."""
        runtime.find_executable(self.config.executable_path)
        runtime.import_playwright()

    @property
    def escaped_requests(self) -> int:
        """Connections a browser tried to make around interception (all refused)."""
        return self._blackhole.refused

    @property
    def escaped(self) -> list[str]:
        """What the last of those connections asked for."""
        return list(self._blackhole.seen)

    def session(self, new_context: NewContext) -> RenderSession:
        """A job's share of the pool; ``new_context`` makes its browser context."""
        return RenderSession(self, new_context)

    @contextlib.asynccontextmanager
    async def _slot(self, stop: asyncio.Event | None) -> AsyncIterator[None]:
        if stop is None:
            async with self._slots:
                yield
            return
        acquire = asyncio.ensure_future(self._slots.acquire())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([acquire, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not acquire.done():
                acquire.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await acquire
        if acquire.cancelled() or not acquire.done():
            raise SlotWaitStopped()
        try:
            yield
        finally:
            self._slots.release()

    async def generation(self) -> Generation:
        """The browser new pages go to, started (or replaced) if need be."""
        current = self._current
        if current is not None and current.usable:
            return current
        async with self._lock:
            current = self._current
            if current is not None and current.usable:
                return current
            if self._closed:
                raise RuntimeError("the browser pool is closed")
            if current is not None:
                current.retiring = True
                self._close_when_idle(current)
            if self._driver is None:
                api = runtime.import_playwright()
                self._driver_manager = api.async_playwright()
                self._driver = await self._driver_manager.start()
            await self._blackhole.start()
            assert self._driver is not None
            launched = await runtime.launch(self._driver, self.config, self._blackhole.port)
            self.launches += 1
            generation = Generation(launched, self.launches)
            self._generations.add(generation)
            self._current = generation
            return generation

    def done_with_page(self, generation: Generation) -> None:
        """Book a finished render; retire the browser once it is worn."""
        generation.rendered += 1
        if generation.usable:
            if generation.rendered >= self.config.restart_after_pages:
                log.info(
                    "retiring browser #%d after %d pages", generation.number, generation.rendered
                )
                generation.retiring = True
            elif generation.rendered % MEMORY_CHECK_EVERY == 0:
                used = runtime.memory_mb(generation.launched.pid)
                if used > self.config.memory_limit_mb:
                    log.info(
                        "retiring browser #%d: %.0f MiB is over the limit of %d MiB",
                        generation.number,
                        used,
                        self.config.memory_limit_mb,
                    )
                    generation.retiring = True
        self._close_when_idle(generation)

    def _close_when_idle(self, generation: Generation) -> None:
        if generation.usable or generation.in_flight or generation.closing is not None:
            return
        generation.closing = asyncio.ensure_future(self._close_generation(generation))

    async def _close_generation(self, generation: Generation) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await generation.browser.close()
        self._generations.discard(generation)

    def memory_mb(self) -> float:
        """What the current browser uses now (PSS, MiB); 0 before one started."""
        current = self._current
        return runtime.memory_mb(current.launched.pid) if current is not None else 0.0

    async def close(self) -> None:
        """Close every browser and the driver."""
        self._closed = True
        async with self._lock:
            for generation in list(self._generations):
                generation.retiring = True
                if generation.closing is None:
                    generation.closing = asyncio.ensure_future(self._close_generation(generation))
            await asyncio.gather(
                *(g.closing for g in self._generations if g.closing), return_exceptions=True
            )
            self._generations.clear()
            self._current = None
            if self._driver_manager is not None:
                with contextlib.suppress(Exception):
                    await self._driver_manager.__aexit__(None, None, None)
                self._driver_manager = self._driver = None
            await self._blackhole.close()


@dataclass
class _Context:
    generation: Generation
    context: BrowserContext
    idle: list[Page] = field(default_factory=list)
    in_flight: int = 0


class RenderSession:
    """One job's browser context and reusable pages (see the module docstring)."""

    def __init__(self, pool: BrowserPool, new_context: NewContext) -> None:
        self.pool = pool
        self._new_context = new_context
        self._current: _Context | None = None
        self._old: list[_Context] = []
        self._lock = asyncio.Lock()
        self._crashed: set[Page] = set()
        self._uses: dict[Page, int] = {}

    @contextlib.asynccontextmanager
    async def page(self, stop: asyncio.Event | None = None) -> AsyncIterator[Lease]:
        """A page to render on, within the pool's limit; ``SlotWaitStopped`` if ``stop``
        is set while waiting for one."""
        async with self.pool._slot(stop):
            state, page = await self._take()
            lease = Lease(page, state.generation)
            try:
                yield lease
            finally:
                lease.crashed = page in self._crashed
                await self._give_back(state, lease)

    def crashed(self, page: Page) -> bool:
        """Whether ``page``'s renderer crashed."""
        return page in self._crashed

    async def _take(self) -> tuple[_Context, Page]:
        while True:
            generation = await self.pool.generation()
            async with self._lock:
                state = self._current
                if state is None or state.generation is not generation:
                    if state is not None:
                        self._old.append(state)
                        await self._drop_idle(state)
                    try:
                        context = await self._new_context(generation.browser)
                    except Exception:
                        if generation.dead:
                            continue  # died meanwhile: start another
                        raise
                    state = self._current = _Context(generation, context)
                state.in_flight += 1
                generation.in_flight += 1
            try:
                page = state.idle.pop() if state.idle else await self._open_page(state)
            except Exception:
                state.in_flight -= 1
                generation.in_flight -= 1
                if generation.dead:
                    continue
                raise
            return state, page

    async def _open_page(self, state: _Context) -> Page:
        page = await state.context.new_page()
        page.on("crash", self._on_crash)
        return page

    def _used(self, page: Page) -> int:
        self._uses[page] = uses = self._uses.get(page, 0) + 1
        return uses

    def _on_crash(self, page: Page) -> None:
        self._crashed.add(page)

    async def _give_back(self, state: _Context, lease: Lease) -> None:
        state.in_flight -= 1
        state.generation.in_flight -= 1
        keep = (
            lease.reusable
            and self._used(lease.page) < PAGE_USES
            and not lease.crashed
            and state is self._current
            and state.generation.usable
        )
        if keep:
            state.idle.append(lease.page)
        else:
            self._crashed.discard(lease.page)
            self._uses.pop(lease.page, None)
            if not state.generation.dead:
                await _close(lease.page.close())
        if state is not self._current and state.in_flight == 0 and state in self._old:
            self._old.remove(state)
            if not state.generation.dead:
                await _close(state.context.close())
        self.pool.done_with_page(state.generation)

    async def _drop_idle(self, state: _Context) -> None:
        pages, state.idle = state.idle, []
        if not state.generation.dead:
            for page in pages:
                await _close(page.close())

    async def close(self) -> None:
        """Close the job's context (pages still rendering are closed with it)."""
        async with self._lock:
            states = [s for s in (self._current, *self._old) if s is not None]
            self._current, self._old = None, []
            for state in states:
                if not state.generation.dead:
                    await _close(state.context.close())
                self.pool._close_when_idle(state.generation)


async def _close(closing: Awaitable[None]) -> None:
    """Close a page or context, giving up on one that will not close in time."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await closing
