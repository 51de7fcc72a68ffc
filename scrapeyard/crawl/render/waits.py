"""Waiting for a rendered page to be ready: a selector, network idle, a fixed delay.

"Network idle" is judged by the guard, which sees every request the page makes: no
request in flight for ``NETWORK_IDLE_QUIET`` seconds. It does not depend on timers the
way Playwright's ``networkidle`` (500 ms) does, and it knows about requests still being
answered on the page's behalf.

Without any ``wait_for``, a page gets a short settle instead: the document's ``load``
event and then ``SETTLE_QUIET`` seconds without requests, at most ``SETTLE_LIMIT``
seconds, so that the content a script fetches right away is in place.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from scrapeyard import errors
from scrapeyard.crawl.render.guard import PageTraffic
from scrapeyard.crawl.render.options import WaitFor

if TYPE_CHECKING:
    from playwright.async_api import Page

NETWORK_IDLE_QUIET = 0.5
SETTLE_QUIET = 0.1
SETTLE_LIMIT = 3.0


class Deadline:
    """The time a page's render must end by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; ``RenderTimeout`` when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise errors.RenderTimeout(f"the page did not render within {self.seconds:g}s")
        return left

    def ms(self) -> float:
        """Seconds left, in the milliseconds Playwright takes."""
        return self.left() * 1000


async def until_ready(
    page: Page, traffic: PageTraffic, wait_for: WaitFor | None, deadline: Deadline
) -> None:
    """Wait as the job asked (or settle briefly); ``ActionFailed`` for a selector that
    never showed up, ``RenderTimeout`` when the time is up."""
    if wait_for is None:
        await settle(traffic, deadline)
        return
    if wait_for.selector is not None:
        await selector(page, wait_for.selector, deadline, "wait_for.selector")
    if wait_for.network_idle:
        await network_idle(traffic, deadline)
    if wait_for.delay:
        await delay(wait_for.delay, deadline)


async def settle(traffic: PageTraffic, deadline: Deadline, limit: float = SETTLE_LIMIT) -> None:
    """A short wait for the page's requests to die down; never an error by itself."""
    await traffic.idle(SETTLE_QUIET, min(limit, deadline.left()))


async def network_idle(traffic: PageTraffic, deadline: Deadline) -> None:
    if not await traffic.idle(NETWORK_IDLE_QUIET, deadline.left()):
        deadline.left()  # raises RenderTimeout: the whole deadline went by


async def delay(seconds: float, deadline: Deadline) -> None:
    await asyncio.sleep(min(seconds, deadline.left()))


async def selector(page: Page, css: str, deadline: Deadline, where: str) -> None:
    from playwright.async_api import Error, TimeoutError

    try:
        await page.wait_for_selector(css, state="attached", timeout=deadline.ms())
    except TimeoutError as exc:
        raise errors.ActionFailed(
            f"{where}: nothing matched {css!r} within {deadline.seconds:g}s"
        ) from exc
    except Error as exc:
        if "selector" in str(exc).lower() or "parse" in str(exc).lower():
            raise errors.ActionFailed(f"{where}: {css!r} is not a valid selector") from exc
        raise
