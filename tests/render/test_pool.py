"""The browser pool on its own: a browser that dies is replaced, failing only the page
in flight; a missing browser is reported with how to install one."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from scrapeyard import errors
from scrapeyard.crawl.render import pool, runtime
from tests.render.conftest import TEST_BROWSER
from tests.support.waiting import until


async def _page_works(session: pool.RenderSession) -> bool:
    async with session.page() as lease:
        await lease.page.set_content("<p id=x>hello</p>")
        return await lease.page.inner_text("#x") == "hello"


async def _context(browser: object) -> object:
    return await browser.new_context()  # type: ignore[attr-defined]


async def test_a_dead_browser_fails_only_its_page_and_is_replaced(chromium: Path) -> None:
    browsers = pool.BrowserPool(TEST_BROWSER)
    session = browsers.session(_context)  # type: ignore[arg-type]
    try:
        assert await _page_works(session)
        generation = await browsers.generation()
        assert generation.launched.pid is not None
        with pytest.raises(PlaywrightError):
            async with session.page() as lease:
                os.kill(generation.launched.pid, signal.SIGKILL)
                await until(lambda: _dead(generation), timeout=10)
                await lease.page.set_content("<p>too late</p>")
        assert await _page_works(session)
        assert browsers.launches == 2
    finally:
        await session.close()
        await browsers.close()


async def _dead(generation: pool.Generation) -> bool:
    return generation.dead


def test_a_missing_browser_says_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(errors.BrowserUnavailable, match="apt-get install chromium"):
        runtime.find_executable(tmp_path / "no-chromium")
