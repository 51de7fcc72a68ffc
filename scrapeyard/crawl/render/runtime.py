"""Starting Chromium through Playwright: where the browser is, how it is launched, and
how much memory it uses.

The browser is never downloaded. ``find_executable`` takes the configured path or the
first of the usual places a package manager puts Chromium or Chrome, and says how to
install one when there is none; ``import_playwright`` says how to install Playwright's
Python package (the ``scrapeyard[browser]`` extra) when it is missing.

Chromium is launched with every network path closed but one: it is told to send all
traffic through a proxy at a local port where nothing answers (``Blackhole``), loopback
included, and WebRTC is kept off UDP. The only way a page gets a byte is through the
request interception in ``guard``, which fetches on the page's behalf through the SSRF
guarded HTTP client. A request that interception does not see (a redirect the browser
would follow by itself, a prefetch, the browser's own background traffic) hits the
blackhole and fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from scrapeyard import errors

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

log = logging.getLogger(__name__)

KNOWN_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
INSTALL_CHROMIUM = (
    "install Debian's or Ubuntu's package (`apt-get install chromium`), or point "
    "browser.executable_path (SCRAPEYARD_BROWSER__EXECUTABLE_PATH) at a Chromium or Chrome"
)
INSTALL_PLAYWRIGHT = (
    "Playwright for Python is not installed: `pip install 'scrapeyard[browser]'` "
    "(the browser itself is not downloaded; scrapeyard uses the system's Chromium)"
)
BASE_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--metrics-recording-only",
    "--mute-audio",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--proxy-bypass-list=<-loopback>",
)


@dataclass(frozen=True)
class BrowserConfig:
    """The operator's browser settings (``browser:`` in the configuration)."""

    executable_path: Path | None = None
    max_pages: int = 4
    """Pages rendering at once in this process, across jobs."""
    restart_after_pages: int = 500
    memory_limit_mb: int = 2048
    js_heap_mb: int = 1024
    block_resources: tuple[str, ...] = ("image", "font", "media")
    allow_evaluate: bool = False
    args: tuple[str, ...] = ()
    launch_timeout: float = 30.0


def find_executable(configured: Path | None = None) -> Path:
    """The browser to run; ``BrowserUnavailable`` saying how to get one if none is found."""
    if configured is not None:
        if os.access(configured, os.X_OK) and configured.is_file():
            return configured
        raise errors.BrowserUnavailable(
            f"browser.executable_path {configured} is not an executable file; " + INSTALL_CHROMIUM
        )
    for candidate in KNOWN_PATHS:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("chromium") or shutil.which("google-chrome")
    if found:
        return Path(found)
    raise errors.BrowserUnavailable(
        f"no Chromium found at {', '.join(KNOWN_PATHS)}; " + INSTALL_CHROMIUM
    )


def import_playwright() -> ModuleType:
    """``playwright.async_api``; ``BrowserUnavailable`` if the package is missing."""
    try:
        import playwright.async_api
    except ImportError as exc:
        raise errors.BrowserUnavailable(INSTALL_PLAYWRIGHT) from exc
    return playwright.async_api


class Blackhole:
    """A local port that closes every connection at once: the browser's only proxy."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0
        self.refused = 0
        """Connections the browser tried to make past interception."""
        self.seen: list[str] = []
        """The last few requests they carried."""

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._refuse, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.refused += 1
        with contextlib.suppress(OSError, TimeoutError, ValueError):
            async with asyncio.timeout(1.0):
                line = await reader.readline()
            # The request line (CONNECT host:port, or GET http://...): what escaped.
            self.seen.append(line[:200].decode("latin-1").strip())
            del self.seen[:-20]
            log.debug("refused a browser request past interception: %s", self.seen[-1])
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(OSError):
                await self._server.wait_closed()
            self._server = None


@dataclass
class Launched:
    """One running browser, and the marker that finds its processes."""

    browser: Browser
    marker: str
    pid: int | None = None


def launch_args(config: BrowserConfig, proxy_port: int, marker: str) -> list[str]:
    return [
        *BASE_ARGS,
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        f"--js-flags=--max-old-space-size={config.js_heap_mb}",
        # Not a Chromium switch: it only marks this browser's command line, so that its
        # processes can be found to measure their memory.
        f"--scrapeyard-browser={marker}",
        *config.args,
    ]


async def launch(driver: Playwright, config: BrowserConfig, proxy_port: int) -> Launched:
    """Start one headless Chromium; ``BrowserUnavailable`` if it will not start."""
    executable = find_executable(config.executable_path)
    marker = uuid.uuid4().hex
    api = import_playwright()
    try:
        browser = await driver.chromium.launch(
            executable_path=str(executable),
            args=launch_args(config, proxy_port, marker),
            timeout=config.launch_timeout * 1000,
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
        )
    except api.Error as exc:
        raise errors.BrowserUnavailable(
            f"{executable} did not start: {str(exc).splitlines()[0]}"
        ) from exc
    launched = Launched(browser, marker)
    launched.pid = _find_pid(marker)
    return launched


def _find_pid(marker: str) -> int | None:
    """The browser process whose command line carries ``marker``."""
    needle = f"--scrapeyard-browser={marker}".encode()
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as file:
                    arguments = file.read().split(b"\0")
            except OSError:
                continue
            if needle in arguments and not any(b"--type=" in arg for arg in arguments):
                return int(name)
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as file:
                found += [int(child) for child in file.read().split()]
    return found


def memory_mb(pid: int | None) -> float:
    """Proportional memory (PSS, shared pages split between sharers) of the browser
    process ``pid`` and its descendants, in MiB; 0 when unknown (not Linux, gone)."""
    if pid is None:
        return 0.0
    total_kb = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as file:
                for line in file:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
        stack += _children(current)
    return total_kb / 1024
