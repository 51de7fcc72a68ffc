"""Fixtures for the dashboard tests: a real ``scrapeyard serve`` on each backend, sites to
crawl on loopback, and headless Chromium driven by Playwright.

One server per backend serves every test of a module (starting it costs seconds); each
test logs in on a fresh browser context. Chromium is Debian's ``/usr/bin/chromium``
(``scripts/test`` installs it); without it these tests are skipped, unless
``SCRAPEYARD_TEST_REQUIRE_BROWSER=1`` makes that an error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import signal
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy.engine import make_url

from scrapeyard.queue import database, keys
from tests.sites import server, tree
from tests.support import processes
from tests.support.waiting import until_sync

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
T = TypeVar("T")
REQUIRE_BROWSER = os.environ.get("SCRAPEYARD_TEST_REQUIRE_BROWSER") == "1"
SCREENSHOTS = processes.ROOT / "test-artifacts" / "screenshots"
FAST_PAGES = 60
SLOW_PAGES = 40


@dataclass(frozen=True)
class Sites:
    """Two test sites on separate ports, so their per-host rate limits do not mix."""

    fast: server.Served
    """Pages answer in 50 ms: a crawl takes a few seconds."""
    slow: server.Served
    """Pages answer in 300 ms: crawled at a low rate, a crawl runs until cancelled."""


@dataclass(frozen=True)
class Dashboard:
    """A ``scrapeyard serve`` process and what a test needs to talk to it."""

    backend: str
    url: str
    database_url: str
    admin_key: str
    write_key: str
    read_key: str
    log: Path

    def api(self, secret: str | None = None) -> httpx.Client:
        """An HTTP client for the API, with a key (the admin key by default)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {secret or self.admin_key}"},
            timeout=30,
        )

    def revoke(self, secret: str) -> None:
        run(_revoke(self.database_url, secret))

    def create_key(self, name: str, scope: keys.Scope) -> str:
        return run(_create_keys(self.database_url, [(name, scope)]))[0]


def session_cookie(client: httpx.Client, secret: str) -> str:
    """Log in through the form with ``secret``; the ``Cookie`` header of the session.

    The dashboard's cookies are Secure (a browser keeps them on loopback); httpx keeps
    them for HTTPS only, so a test sends this header itself.
    """
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    login = client.post(
        "/login",
        data={"csrf": token.group(1), "key": secret},
        headers={"Cookie": f"scrapeyard_login={form.cookies['scrapeyard_login']}"},
    )
    assert login.status_code == 303
    return f"scrapeyard_session={login.cookies['scrapeyard_session']}"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a loop of its own, in a thread: Playwright's sync
    API keeps an event loop running on the main thread while a browser is open."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _create_keys(url: str, wanted: list[tuple[str, keys.Scope]]) -> list[str]:
    db = database.open_database(url, pool_size=1)
    try:
        store = keys.KeyStore(db)
        return [(await store.create(name, scope)).secret for name, scope in wanted]
    finally:
        await db.dispose()


async def _revoke(url: str, secret: str) -> None:
    db = database.open_database(url, pool_size=1)
    try:
        store = keys.KeyStore(db)
        key = await store.authenticate(secret)
        assert key is not None
        await store.revoke(key.id)
    finally:
        await db.dispose()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _run_sql(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated database of each backend, for one module's server."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("web") / "scrapeyard.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    server_url: str = request.getfixturevalue("postgres_server")
    pg_template: str = request.getfixturevalue("postgres_template")
    name = f"scrapeyard_web_{uuid.uuid4().hex[:12]}"
    run(_run_sql(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield str(make_url(server_url).set(database=name))
    run(_run_sql(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def sites() -> Iterator[Sites]:
    with server.server_thread() as servers:
        yield Sites(
            fast=servers.serve(tree.tree_site(FAST_PAGES, delay=0.05)),
            slow=servers.serve(tree.tree_site(SLOW_PAGES, delay=0.3)),
        )


@pytest.fixture(scope="module")
def dashboard(
    web_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """``scrapeyard serve`` with one worker process, on a free loopback port."""
    admin, write, read = run(
        _create_keys(
            web_database_url,
            [
                ("admin", keys.Scope.ADMIN),
                ("writer", keys.Scope.WRITE),
                ("reader", keys.Scope.READ),
            ],
        )
    )
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    environ = processes.env(web_database_url, SCRAPEYARD_ALLOWED_NETWORKS="127.0.0.0/8")
    command = processes.Command(
        ["serve", "--port", "0", "--processes", "1", "--concurrency", "4"], environ, log
    )
    try:
        found = until_sync(
            lambda: (
                re.search(r"http://127\.0\.0\.1:\d+", command.output)
                or command.process.poll() is not None
            ),
            timeout=60,
        )
        assert isinstance(found, re.Match), f"serve did not start:\n{command.output}"
        url = found.group(0)
        until_sync(lambda: _healthy(url), timeout=30)
        backend = make_url(web_database_url).get_backend_name()
        yield Dashboard(backend, url, web_database_url, admin, write, read, log)
    finally:
        if command.process.poll() is None:
            command.signal(signal.SIGTERM)
            try:
                command.wait(timeout=30)
            except Exception:
                command.kill()
        else:
            command.kill()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def browser(dashboard: Dashboard) -> Iterator[Browser]:
    """Headless Chromium, started after the module's server.

    It depends on ``dashboard`` so that each backend gets its own, started once its
    database exists: while Playwright's sync API runs, the main thread has a running
    event loop, and fixtures that call ``asyncio.run`` must come first.
    """
    if not CHROMIUM.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"{CHROMIUM} is missing; run the suite with scripts/test")
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/test installs it)")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


Login = Callable[..., Page]


@pytest.fixture
def login(dashboard: Dashboard, browser: Browser) -> Iterator[Login]:
    """Log in on a fresh browser context: ``login(key, width=1280)`` gives its page.

    A page that logs a script error fails the test.
    """
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def log_in(secret: str | None = None, *, width: int = 1280) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{dashboard.url}/login")
        page.get_by_label("API key").fill(secret or dashboard.admin_key)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{dashboard.url}/")
        return page

    yield log_in
    for context in contexts:
        context.close()
    assert problems == []


def screenshot(page: Page, dashboard: Dashboard, name: str) -> None:
    """Save the whole page as ``test-artifacts/screenshots/<backend>-<name>-<width>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=SCREENSHOTS / f"{dashboard.backend}-{name}-{width}.png", full_page=True)
