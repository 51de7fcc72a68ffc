"""Actions on a rendered page: click, type, press, scroll, scroll to the end, wait, and
(when the operator allows it) evaluate the job's JavaScript.

Each step runs within the page's deadline. A step that changes the page (click, press,
scroll) is followed by a short settle, so the content it loads is in place for the next
step. ``scroll_to_end`` scrolls until the page stops growing (or ``item_selector``
stops matching more elements), at most ``max_scrolls`` times: an infinite list ends.
A step that cannot be done fails the page with ``ActionFailed`` naming the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.crawl.render import waits
from scrapeyard.crawl.render.guard import PageTraffic
from scrapeyard.crawl.render.options import Action

if TYPE_CHECKING:
    from playwright.async_api import Page

MAX_RESULT_CHARS = 100_000
_HEIGHT = "document.scrollingElement ? document.scrollingElement.scrollHeight : 0"
_COUNT = "selector => document.querySelectorAll(selector).length"
_GROWN = """([selector, last]) => (selector
    ? document.querySelectorAll(selector).length
    : (document.scrollingElement ? document.scrollingElement.scrollHeight : 0)) > last"""
# How long scroll_to_end waits for a list to grow once the network is quiet.
GROWTH_GRACE = 0.5


async def run(
    page: Page,
    traffic: PageTraffic,
    actions: tuple[Action, ...],
    deadline: waits.Deadline,
    *,
    allow_evaluate: bool,
) -> list[Any]:
    """Run ``actions`` in order; the results of ``evaluate`` steps, in order."""
    from playwright.async_api import Error, TimeoutError

    results: list[Any] = []
    for index, action in enumerate(actions):
        where = f"actions[{index}] ({action.type})"
        try:
            result = await _step(page, traffic, action, deadline, where, allow_evaluate)
        except TimeoutError as exc:
            deadline.left()
            raise errors.ActionFailed(f"{where}: {_first_line(exc)}") from exc
        except Error as exc:
            if _gone(exc):
                raise
            raise errors.ActionFailed(f"{where}: {_first_line(exc)}") from exc
        if action.type == "evaluate":
            results.append(result)
    return results


async def _step(
    page: Page,
    traffic: PageTraffic,
    action: Action,
    deadline: waits.Deadline,
    where: str,
    allow_evaluate: bool,
) -> Any:
    kind = action.type
    if kind == "click":
        assert action.selector is not None
        await page.locator(action.selector).first.click(timeout=deadline.ms())
        await waits.settle(traffic, deadline)
    elif kind == "type":
        assert action.selector is not None and action.text is not None
        await page.locator(action.selector).first.fill(action.text, timeout=deadline.ms())
    elif kind == "press":
        assert action.key is not None
        if action.selector is None:
            await page.keyboard.press(action.key)
        else:
            await page.locator(action.selector).first.press(action.key, timeout=deadline.ms())
        await waits.settle(traffic, deadline)
    elif kind == "scroll":
        pixels = action.pixels
        if pixels is None:
            pixels = page.viewport_size["height"] if page.viewport_size else 800
        await page.evaluate("pixels => window.scrollBy(0, pixels)", pixels)
        await waits.settle(traffic, deadline)
    elif kind == "scroll_to_end":
        await _scroll_to_end(page, traffic, action, deadline)
    elif kind == "wait":
        if action.selector is not None:
            await waits.selector(page, action.selector, deadline, where)
        elif action.network_idle:
            await waits.network_idle(traffic, deadline)
        else:
            await waits.delay(action.seconds, deadline)
    elif kind == "evaluate":
        if not allow_evaluate:
            raise errors.ActionFailed(
                f"{where}: evaluate is disabled on this worker (browser.allow_evaluate)"
            )
        assert action.script is not None
        result = await page.evaluate(action.script)
        await waits.settle(traffic, deadline)
        return _bounded(result)
    return None


async def _scroll_to_end(
    page: Page, traffic: PageTraffic, action: Action, deadline: waits.Deadline
) -> None:
    async def size() -> int:
        if action.selector is not None:
            return int(await page.evaluate(_COUNT, action.selector))
        return int(await page.evaluate(_HEIGHT))

    last = await size()
    unchanged = 0
    for _ in range(action.max_scrolls):
        if unchanged:
            # Up a screen first: a list whose scroll handler was still busy with the last
            # batch when we scrolled sees a fresh scroll event at the bottom.
            await page.evaluate("window.scrollBy(0, -window.innerHeight)")
        await page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        await waits.settle(traffic, deadline)
        now = await size()
        if now <= last and await _grows(page, action, last, deadline):
            now = await size()
        if now <= last:
            unchanged += 1
            # Twice unchanged: a list that only grows after a pause gets a second look.
            if unchanged >= 2:
                return
        else:
            unchanged = 0
        last = max(last, now)


async def _grows(page: Page, action: Action, last: int, deadline: waits.Deadline) -> bool:
    """Whether the page grows past ``last`` within a short grace: the network may be
    quiet while the response's scripts have not yet added the new items."""
    from playwright.async_api import TimeoutError

    timeout = min(GROWTH_GRACE, deadline.left())
    try:
        await page.wait_for_function(
            _GROWN, arg=[action.selector, last], timeout=max(1.0, timeout * 1000)
        )
    except TimeoutError:
        return False
    return True


def _bounded(result: Any) -> Any:
    """An ``evaluate`` result small enough to store (JSON text past the limit is cut)."""
    import orjson

    try:
        text = orjson.dumps(result)
    except TypeError:
        return repr(result)[:MAX_RESULT_CHARS]
    if len(text) > MAX_RESULT_CHARS:
        return text[:MAX_RESULT_CHARS].decode(errors="ignore")
    return result


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _gone(exc: BaseException) -> bool:
    text = str(exc)
    return "closed" in text or "crashed" in text
