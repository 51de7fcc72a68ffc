"""Politeness per host: requests per second with a burst, and a cap on connections.

``Politeness`` is a small record per host with one owner, as Scrapy's downloader slots
are. Alone it is a local token bucket and a local connection cap. Given a
``SharedLimits`` (the worker passes the database-backed one), the tokens and the
connection slots come from state that every process and host shares, so two crawls of
one site, or one crawl worked by many processes, stay within one limit together. It
fetches tokens in small batches and holds connection slots under a lease, so the
shared state is touched a few times per second, not once per request.

``Crawl-delay`` from robots.txt lowers a host's rate to one request per delay. While
the shared state cannot be reached, requests wait (they never go ahead unchecked).

A request waiting for its turn gives up (``Stopped``) as soon as the caller's ``stop``
event is set, so a crawl that is cancelled or shutting down does not first spend every
token its waiting requests would have taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from scrapeyard import errors
from scrapeyard.crawl.options import RateLimit

log = logging.getLogger(__name__)

SLOT_RECHECK = 1.0
"""Seconds between attempts to get connection slots when others hold them all."""


class Stopped(Exception):
    """The caller's ``stop`` event was set before the host's turn came."""


async def _pause(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


def _check(stop: asyncio.Event | None, host: str) -> None:
    if stop is not None and stop.is_set():
        raise Stopped(host)


class SharedLimits(Protocol):
    """Token buckets and connection slots shared by every participant."""

    async def take_tokens(
        self, host: str, want: int, requests_per_second: float, burst: int
    ) -> tuple[int, float]:
        """Withdraw up to ``want`` tokens; (granted, seconds until one is available)."""
        ...

    async def hold_slots(self, host: str, want: int, cap: int) -> int:
        """Hold up to ``want`` of ``cap`` connection slots (a fair share); how many."""
        ...

    async def drop_slots(self) -> None:
        """Give back every slot this participant holds."""
        ...


@dataclass
class HostState:
    """One host as this participant sees it."""

    host: str
    rate: RateLimit
    cap: int
    tokens: float = 0.0
    refilled: float = field(default_factory=time.monotonic)
    in_flight: int = 0
    slots: int = 0
    slots_checked: float = 0.0
    throttled: int = 0
    """How many times a request had to wait for a token."""
    token_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


def effective_rate(rate: RateLimit, crawl_delay: float | None) -> RateLimit:
    """``rate`` lowered to one request per ``crawl_delay`` seconds when robots.txt asks."""
    if not crawl_delay or crawl_delay <= 0:
        return rate
    per_second = 1.0 / crawl_delay
    if rate.unlimited or per_second < rate.requests_per_second:
        return RateLimit(per_second, 1)
    return rate


class Politeness:
    """Waits before each request until the host's rate and connection cap allow it."""

    def __init__(
        self,
        *,
        shared: SharedLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._clock = clock
        self._hosts: dict[str, HostState] = {}

    def host(self, host: str, rate: RateLimit, cap: int) -> HostState:
        state = self._hosts.get(host)
        if state is None:
            state = HostState(host, rate, cap, tokens=float(rate.burst), refilled=self._clock())
            self._hosts[host] = state
        else:
            state.rate, state.cap = rate, cap
        return state

    @property
    def hosts(self) -> list[HostState]:
        return list(self._hosts.values())

    @contextlib.asynccontextmanager
    async def request(
        self,
        host: str,
        rate: RateLimit,
        cap: int,
        *,
        crawl_delay: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> AsyncIterator[None]:
        """Hold a connection slot and one token for ``host`` for the body's duration.

        Raises ``Stopped`` if ``stop`` is set while waiting for them.
        """
        state = self.host(host, effective_rate(rate, crawl_delay), cap)
        await self._enter(state, stop)
        try:
            await self._token(state, stop)
            yield
        finally:
            async with state.changed:
                state.in_flight -= 1
                state.changed.notify()

    async def _enter(self, state: HostState, stop: asyncio.Event | None) -> None:
        async with state.changed:
            while True:
                _check(stop, state.host)
                limit = await self._connection_limit(state)
                if state.in_flight < limit:
                    state.in_flight += 1
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SLOT_RECHECK):
                        await state.changed.wait()

    async def _connection_limit(self, state: HostState) -> int:
        if self._shared is None:
            return state.cap
        if state.slots >= min(state.cap, state.in_flight + 1):
            return state.slots
        now = self._clock()
        # Ask at once the first time; afterwards at most every SLOT_RECHECK seconds.
        if not state.slots_checked or now - state.slots_checked >= SLOT_RECHECK:
            state.slots_checked = now
            try:
                state.slots = await self._shared.hold_slots(state.host, state.cap, state.cap)
            except errors.DatabaseUnavailable as exc:
                # Keep what we hold; requests wait for slots until the database is back.
                log.warning("cannot get connection slots for %s: %s", state.host, exc)
        return state.slots

    async def _token(self, state: HostState, stop: asyncio.Event | None) -> None:
        rate = state.rate
        if rate.unlimited:
            return
        async with state.token_lock:
            while True:
                _check(stop, state.host)
                if self._shared is None:
                    self._refill(state)
                elif state.tokens < 1:
                    try:
                        granted, wait = await self._shared.take_tokens(
                            state.host, rate.burst, rate.requests_per_second, rate.burst
                        )
                    except errors.DatabaseUnavailable as exc:
                        log.warning("cannot get tokens for %s: %s", state.host, exc)
                        granted, wait = 0, SLOT_RECHECK
                    state.tokens += granted
                    if not granted:
                        state.throttled += 1
                        await _pause(max(wait, 0.01), stop)
                        continue
                if state.tokens >= 1:
                    state.tokens -= 1
                    return
                state.throttled += 1
                await _pause((1 - state.tokens) / rate.requests_per_second, stop)

    def _refill(self, state: HostState) -> None:
        now = self._clock()
        elapsed = max(now - state.refilled, 0.0)
        state.refilled = now
        state.tokens = min(
            float(state.rate.burst), state.tokens + elapsed * state.rate.requests_per_second
        )

    async def renew(self) -> None:
        """Keep the shared connection slots of busy hosts; let idle ones go."""
        if self._shared is None:
            return
        for state in self._hosts.values():
            if state.slots:
                want = state.cap if state.in_flight else 0
                state.slots = await self._shared.hold_slots(state.host, want, state.cap)
                state.slots_checked = self._clock()

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.drop_slots()
