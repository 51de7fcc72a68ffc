"""Politeness on its own (no shared state): waiting for a turn, and giving it up."""

from __future__ import annotations

import asyncio
import time

import pytest

from scrapeyard import errors
from scrapeyard.crawl import politeness
from scrapeyard.crawl.options import RateLimit
from tests.support.waiting import until

ONE_PER_SECOND = RateLimit(requests_per_second=1, burst=1)


async def test_requests_wait_for_a_token() -> None:
    limits = politeness.Politeness()
    started = time.monotonic()
    for _ in range(2):
        async with limits.request("a.test", RateLimit(requests_per_second=10, burst=1), 4):
            pass
    assert time.monotonic() - started >= 0.09


async def test_a_request_waiting_for_its_turn_gives_up_when_told_to_stop() -> None:
    limits = politeness.Politeness()
    stop = asyncio.Event()
    async with limits.request("a.test", ONE_PER_SECOND, 4, stop=stop):
        pass  # the only token

    async def second() -> None:
        async with limits.request("a.test", ONE_PER_SECOND, 4, stop=stop):
            pytest.fail("the request went ahead after the stop")

    waiting = asyncio.create_task(second())

    async def throttled() -> bool:
        return limits.hosts[0].throttled > 0

    await until(throttled, timeout=1)
    started = time.monotonic()
    stop.set()
    with pytest.raises(politeness.Stopped):
        await asyncio.wait_for(waiting, 1)
    assert time.monotonic() - started < 0.1
    assert limits.hosts[0].in_flight == 0  # its connection slot was given back


async def test_a_stopped_caller_does_not_wait_for_a_connection_slot() -> None:
    limits = politeness.Politeness()
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(politeness.Stopped):
        async with limits.request("a.test", RateLimit(requests_per_second=0), 1, stop=stop):
            pytest.fail("the request went ahead after the stop")


class _FlakyShared:
    """Shared limits whose database is away for the first few calls of each kind."""

    def __init__(self, outages: int) -> None:
        self.failures = {"tokens": outages, "slots": outages}
        self.calls = {"tokens": 0, "slots": 0}

    def _call(self, kind: str) -> None:
        self.calls[kind] += 1
        if self.calls[kind] <= self.failures[kind]:
            raise errors.DatabaseUnavailable("the database went away")

    async def take_tokens(
        self, host: str, want: int, requests_per_second: float, burst: int
    ) -> tuple[int, float]:
        self._call("tokens")
        return want, 0.0

    async def hold_slots(self, host: str, want: int, cap: int) -> int:
        self._call("slots")
        return want

    async def drop_slots(self) -> None:
        pass


async def test_requests_wait_while_the_shared_state_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(politeness, "SLOT_RECHECK", 0.01)
    shared = _FlakyShared(outages=2)
    limits = politeness.Politeness(shared=shared)

    for _ in range(2):  # the first request spends the burst, the second needs a token
        async with limits.request("a.test", RateLimit(requests_per_second=100, burst=1), 4):
            pass

    # Each kind of call failed twice, then worked: the requests waited, and went ahead
    # only once the shared state allowed them.
    assert shared.calls == {"slots": 3, "tokens": 3}
