"""The supervisor behind ``scrapeyard worker``: N worker processes, kept alive.

- A process that dies (crash, ``kill -9``, out of memory) is replaced; if it keeps
  dying soon after starting, each restart waits longer (capped), so a crash loop does
  not spin. Its jobs come back through lease expiry.
- A process that exits with ``ExitCode.RECYCLE`` (memory over the limit, after its
  running jobs finished) is replaced at once.
- SIGTERM or SIGINT: every process drains (claims nothing, finishes running jobs within
  the grace period, hands the rest back); a second signal tells them to stop now. The
  supervisor exits 0 when they have all gone.
- ``--burst``: processes exit when nothing is ready; the supervisor exits when all have.

Worker processes ignore SIGINT: a Ctrl-C reaches the whole process group, and the
supervisor alone decides what it means (one drain, not two signals at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

from scrapeyard import config, errors
from scrapeyard.queue import database
from scrapeyard.queue.workers import WorkerRegistry, WorkerState
from scrapeyard.worker import process
from scrapeyard.worker.child import WorkerPlan
from scrapeyard.worker.queues import QueueSelector

log = logging.getLogger("scrapeyard.supervisor")

MIN_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
STABLE_AFTER = 30.0
"""A process that ran this long before dying is restarted without extra delay."""


@dataclass
class _Slot:
    """One worker process position, and its restart history."""

    number: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restart_delay: float = 0.0
    restart_at: float = 0.0
    done: bool = False
    restarts: int = 0


class Supervisor:
    """Starts, watches and stops the worker processes of one host."""

    def __init__(
        self,
        settings: config.Settings,
        *,
        processes: int,
        queues: QueueSelector,
        concurrency: int,
        burst: bool = False,
        health_port: int | None = None,
        handle_signals: bool = True,
    ) -> None:
        self.settings = settings
        self.id = f"supervisor-{uuid.uuid4().hex[:8]}"
        self.plan = WorkerPlan(
            settings=settings.model_dump(mode="json"),
            queues=str(queues),
            concurrency=concurrency,
            burst=burst,
            supervisor=self.id,
        )
        self.slots = [_Slot(n) for n in range(processes)]
        self.health_port = health_port
        self.handle_signals = handle_signals
        self._stopping = False
        self._signals = 0
        self._wake = asyncio.Event()
        self._db: database.Database | None = None

    async def run(self) -> int:
        """Run until every process has stopped; the exit status for the command."""
        loop = asyncio.get_running_loop()
        if self.handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self._on_signal, signum)
        self._db = database.open_database(self.settings.database_url, pool_size=2)
        server = None
        if self.health_port is not None:
            from scrapeyard.worker import health  # aiohttp only when asked for

            server = health.HealthServer(self._readiness, port=self.health_port)
            await server.start()
            log.info("health endpoints on port %d: /healthz, /readyz", self.health_port)
        try:
            for slot in self.slots:
                self._start(slot)
            while not all(slot.done for slot in self.slots):
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await self._wake.wait()
                self._check_slots()
        finally:
            if self.handle_signals:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
            if server is not None:
                await server.stop()
            await self._db.dispose()
        log.info("all worker processes stopped")
        return 0

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._signals == 0:
            log.info("%s: stopping worker processes gracefully (again to hurry)", name)
        else:
            log.warning("%s again: worker processes stop now and hand back their jobs", name)
        self.stop()

    def stop(self) -> None:
        """Drain every worker process; called again, make them stop at once."""
        self._signals += 1
        self._stopping = True
        for slot in self.slots:
            if slot.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    slot.process.send_signal(signal.SIGTERM)
            else:
                slot.done = True  # waiting for a restart: simply do not restart it
        self._wake.set()

    def _start(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(
            [sys.executable, "-m", "scrapeyard.worker.child"], stdin=subprocess.PIPE
        )
        assert slot.process.stdin is not None
        slot.process.stdin.write(self.plan.to_json())
        slot.process.stdin.close()
        slot.started = time.monotonic()
        log.info("worker process %d started (pid %s)", slot.number, slot.process.pid)

    def _check_slots(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.done:
                continue
            if slot.process is None:
                if self._stopping:
                    slot.done = True
                elif now >= slot.restart_at:
                    slot.restarts += 1
                    self._start(slot)
                continue
            code = slot.process.poll()
            if code is None:
                continue
            slot.process = None
            self._exited(slot, code, now)

    def _exited(self, slot: _Slot, code: int, now: float) -> None:
        if self._stopping or (code == process.ExitCode.OK and self.plan.burst):
            slot.done = True
            if code != 0:
                log.warning("worker process %d exited with %s while stopping", slot.number, code)
            return
        if code == process.ExitCode.RECYCLE:
            log.info("worker process %d recycled (memory limit); starting a fresh one", slot.number)
            slot.restart_delay = 0.0
            slot.restart_at = now
            return
        ran = now - slot.started
        if ran >= STABLE_AFTER:
            slot.restart_delay = MIN_RESTART_DELAY
        else:
            slot.restart_delay = min(
                max(slot.restart_delay * 2, MIN_RESTART_DELAY), MAX_RESTART_DELAY
            )
        slot.restart_at = now + slot.restart_delay
        how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"code {code}"
        log.error(
            "worker process %d died (%s) after %.1fs; restarting in %.1fs",
            slot.number,
            how,
            ran,
            slot.restart_delay,
        )

    async def _readiness(self) -> list[str]:
        problems: list[str] = []
        assert self._db is not None
        try:
            await self._db.ping()
        except errors.DatabaseUnavailable as exc:
            return [str(exc)]
        dead = [s.number for s in self.slots if s.process is None or s.process.poll() is not None]
        if dead:
            problems.append(f"worker processes not running: {dead}")
        interval = self.settings.queue.heartbeat_interval
        rows = await WorkerRegistry(self._db).list(stale_after=3 * interval, supervisor=self.id)
        live = [w for w in rows if w.state is not WorkerState.STOPPED]
        stale = [w.id for w in live if w.stale]
        if stale:
            problems.append(f"worker processes not heartbeating: {stale}")
        if len(live) < len(self.slots) and not dead:
            problems.append("worker processes still starting")
        return problems
