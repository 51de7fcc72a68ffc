"""Waking idle workers when a job may be ready, instead of making them poll fast.

``Wakeup`` is the in-process part: producers call ``notify(queue)`` after they commit,
and claim loops in the same process ``wait`` on it. ``PostgresListener`` feeds it from
PostgreSQL ``LISTEN``, so workers on other hosts wake within milliseconds of a commit
(the store sends ``NOTIFY`` inside the enqueueing transaction, so it is delivered only
if the job was committed). Polling stays as the fallback for everything else: delayed
jobs coming due, a listener reconnecting, SQLite across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

CHANNEL = "scrapeyard_jobs"

log = logging.getLogger(__name__)


class Wakeup:
    """An in-process signal per queue name."""

    def __init__(self) -> None:
        self._waiters: list[tuple[frozenset[str], asyncio.Event]] = []

    def notify(self, queue: str | None = None) -> None:
        """Wake every waiter on ``queue`` (every waiter when ``None``)."""
        for queues, flag in self._waiters:
            if queue is None or queue in queues:
                flag.set()

    async def wait(self, queues: Iterable[str], timeout: float) -> bool:
        """Sleep until one of ``queues`` is notified or ``timeout`` passes; True if woken."""
        entry = (frozenset(queues), asyncio.Event())
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await entry[1].wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.remove(entry)


class PostgresListener:
    """Holds one connection that LISTENs and forwards notifications to a ``Wakeup``.

    If the connection drops, it reconnects with a capped backoff; meanwhile the claim
    loops keep polling, so a lost notification only costs latency.
    """

    def __init__(self, engine: AsyncEngine, wakeup: Wakeup) -> None:
        self._engine = engine
        self._wakeup = wakeup
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="scrapeyard-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._wakeup.notify(payload or None)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                async with self._engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    lost = asyncio.Event()
                    driver.add_termination_listener(lambda _c, lost=lost: lost.set())
                    await driver.add_listener(CHANNEL, self._on_notify)
                    try:
                        self.connected.set()
                        delay = 0.1
                        # Anything committed while we were away: let claimers look now.
                        self._wakeup.notify()
                        await lost.wait()
                    finally:
                        if not driver.is_closed():
                            with contextlib.suppress(Exception):
                                await driver.remove_listener(CHANNEL, self._on_notify)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a dropped connection; keep trying
                log.warning("listen connection lost (%s); retrying in %.1fs", exc, delay)
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
