"""One worker process: claims jobs, runs up to ``concurrency`` of them, keeps leases alive.

Four loops share one event loop:

- the claim loop fills free slots from the queues (in their order or by weight) and,
  when nothing is ready, sleeps until a wake-up (``NOTIFY`` on PostgreSQL, in-process
  signals) or the poll interval;
- the heartbeat loop renews the leases of every running job, learns of cancellations
  and lost leases, updates this worker's row, and watches memory;
- maintenance units rescue jobs of dead workers and purge old ones;
- the completer flushes batched completions.

Stopping (a signal, ``--burst`` running dry, or memory over the limit) drains: claim
nothing more, give running jobs ``shutdown_grace`` to finish, then hand the rest back
to the queue without counting the attempt. Nothing stays ``running`` after a clean
exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from scrapeyard import __version__, config, errors, logs
from scrapeyard.queue import wakeup
from scrapeyard.queue.jobs import Job
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.workers import Heartbeat, WorkerRegistry, WorkerState
from scrapeyard.worker import completer, events, handlers, maintenance, memory, runner
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources

log = logging.getLogger("scrapeyard.worker")


class ExitCode(enum.IntEnum):
    """How a worker process ends; the supervisor reads it."""

    OK = 0
    """Stopped on request, or ``--burst`` found nothing more to do."""
    RECYCLE = 3
    """Memory passed the limit; the supervisor starts a fresh process at once."""


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker process behaves; built from settings and flags."""

    queues: QueueSelector
    concurrency: int = 10
    burst: bool = False
    poll_interval: float = 0.25
    heartbeat_interval: float = 5.0
    job_timeout: float = 900.0
    shutdown_grace: float = 30.0
    cancel_grace: float = 5.0
    memory_limit_bytes: int | None = None
    retention: float = 7 * 86400.0
    supervisor: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: config.Settings,
        *,
        queues: QueueSelector | None = None,
        concurrency: int | None = None,
        burst: bool = False,
        supervisor: str | None = None,
    ) -> WorkerOptions:
        return cls(
            queues=queues or QueueSelector(("default",)),
            concurrency=concurrency or settings.worker.concurrency,
            burst=burst,
            poll_interval=settings.queue.poll_interval,
            heartbeat_interval=settings.queue.heartbeat_interval,
            job_timeout=settings.worker.job_timeout,
            shutdown_grace=settings.worker.shutdown_grace,
            memory_limit_bytes=settings.worker.memory_limit_mb * 1024 * 1024,
            retention=settings.queue.retention,
            supervisor=supervisor,
        )


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkerProcess:
    """Runs jobs from the store until stopped. ``run()`` returns an ``ExitCode``."""

    def __init__(
        self,
        store: JobStore,
        options: WorkerOptions,
        *,
        registry: handlers.Registry | None = None,
        hooks: events.Hooks | None = None,
        worker_id: str | None = None,
        resources: Resources | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.registry = registry or handlers.registry
        self.hooks = hooks or events.hooks
        self.id = worker_id or new_worker_id()
        self.resources = resources or Resources(
            store, worker_id=self.id, lease=store.defaults.lease_duration
        )
        self.host = socket.gethostname()
        self.state = WorkerState.STARTING
        self.exit_code = ExitCode.OK
        self.workers = WorkerRegistry(store.db)
        self.running: dict[int, runner.Running] = {}
        self.log = logs.bind(log, worker_id=self.id)
        self._slot_freed = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._force = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.completer = completer.Completer(
            store, on_done=self._completed, on_lost=self._completion_refused
        )
        self.runner = runner.Runner(
            store,
            self.registry,
            self.completer,
            self.hooks,
            worker_id=self.id,
            default_timeout=options.job_timeout,
            log=self.log,
            resources=self.resources,
        )

    # -- control -----------------------------------------------------------------------

    def request_stop(self, *, force: bool = False) -> None:
        """Begin draining; with ``force`` (or a second call), skip the grace period."""
        if self._stop_requested.is_set() or force:
            self._force.set()
        self._stop_requested.set()
        self.store.wakeup.notify()
        self._slot_freed.set()

    def install_signal_handlers(self, signals: tuple[int, ...] = (signal.SIGTERM,)) -> None:
        loop = asyncio.get_running_loop()
        for signum in signals:
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._stop_requested.is_set():
            self.log.warning("%s again: stopping now, handing running jobs back", name)
        else:
            self.log.info(
                "%s: finishing running jobs (up to %gs), then stopping",
                name,
                self.options.shutdown_grace,
            )
        self.request_stop()

    # -- lifecycle ---------------------------------------------------------------------

    async def run(self) -> ExitCode:
        """Register, work until stopped or (``--burst``) out of work, drain, unregister."""
        queue_names = list(self.options.queues.names)
        await self.workers.register(
            self.id,
            supervisor=self.options.supervisor,
            host=self.host,
            pid=os.getpid(),
            queues=queue_names,
            concurrency=self.options.concurrency,
            version=__version__,
        )
        listener = None
        if not self.store.db.is_sqlite:
            listener = wakeup.PostgresListener(self.store.db.engine, self.store.wakeup)
            listener.start()
        self.completer.start()
        self._spawn(self._heartbeat_loop(), "heartbeat")
        for unit in maintenance.units(
            self.store,
            self.workers,
            self.hooks,
            rescue_interval=max(self.options.heartbeat_interval, 0.5),
            retention=self.options.retention,
            data_dir=self.resources.data_dir,
            worker_id=self.id,
        ):
            self._spawn(maintenance.run_forever(unit), f"maintenance-{unit.name}")
        self.state = WorkerState.RUNNING
        await self._beat()
        await self.hooks.emit(
            "worker_started", worker_id=self.id, host=self.host, pid=os.getpid(), queues=queue_names
        )
        self.log.info(
            "worker started: queues %s, concurrency %d%s",
            self.options.queues,
            self.options.concurrency,
            ", burst" if self.options.burst else "",
        )
        try:
            await self._claim_loop()
            await self._drain()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.completer.close()
            await self.resources.close()
            if listener is not None:
                await listener.stop()
            self.state = WorkerState.STOPPED
            with contextlib.suppress(errors.DatabaseUnavailable):
                await self._beat()
        reason = "memory limit" if self.exit_code is ExitCode.RECYCLE else "stopped"
        await self.hooks.emit("worker_stopped", worker_id=self.id, reason=reason)
        self.log.info(
            "worker stopped (%s): %d succeeded, %d failed",
            reason,
            self.runner.succeeded,
            self.runner.failed,
        )
        return self.exit_code

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=f"scrapeyard-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- claiming ----------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stop_requested.is_set():
            free = self.options.concurrency - len(self.running)
            if free <= 0:
                await self._wait_for_slot()
                continue
            claimed = await self._claim(free)
            for job in claimed:
                self._start(job)
            if len(claimed) == free:
                continue
            if claimed:
                # Fewer than asked: the queues are (nearly) dry; look once more first.
                continue
            if self.options.burst:
                if not self.running:
                    self.log.info("burst: no job ready in %s; stopping", self.options.queues)
                    return
                # A running job may still enqueue or retry work: look again when one
                # finishes, or after the poll interval.
                self._slot_freed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.poll_interval):
                        await self._slot_freed.wait()
                continue
            await self._idle()

    async def _claim(self, free: int) -> list[Job]:
        claimed: list[Job] = []
        try:
            for queue_name in self.options.queues.order():
                claimed += await self.store.claim(self.id, [queue_name], free - len(claimed))
                if len(claimed) >= free:
                    break
        except errors.DatabaseUnavailable as exc:
            self.log.warning("cannot claim jobs: %s", exc)
            await self._pause_after_error()
        except Exception:
            self.log.exception("claiming jobs failed")
            await self._pause_after_error()
        return claimed

    async def _pause_after_error(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(1.0, self.options.poll_interval * 4)):
                await self._stop_requested.wait()

    async def _idle(self) -> None:
        """Sleep until a wake-up, the poll interval, or a job scheduled to come due."""
        timeout = self.options.poll_interval
        await self.store.wakeup.wait(self.options.queues.names, timeout)

    async def _wait_for_slot(self) -> None:
        self._slot_freed.clear()
        if self.options.concurrency - len(self.running) > 0 or self._stop_requested.is_set():
            return
        await self._slot_freed.wait()

    def _start(self, job: Job) -> None:
        running = self.runner.prepare(job)
        self.running[job.id] = running
        self._spawn(self._run_one(running), f"job-{job.id}")

    async def _run_one(self, running: runner.Running) -> None:
        try:
            await self.runner.run(running)
        except Exception:
            self.log.exception("unexpected error running job %d", running.job.id)
        finally:
            self.running.pop(running.job.id, None)
            self._slot_freed.set()

    # -- completion callbacks ----------------------------------------------------------

    async def _completed(self, job: Job, result: Any, duration: float) -> None:
        await self.runner.finished(job, result, duration)

    async def _completion_refused(self, job: Job) -> None:
        await self.runner.lost(job)

    # -- heartbeat ---------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat_interval)
            try:
                await self._renew_leases()
                await self._beat()
            except errors.DatabaseUnavailable as exc:
                self.log.warning("heartbeat failed, running jobs continue: %s", exc)
            except Exception:
                self.log.exception("heartbeat failed, running jobs continue")
            self._check_memory()

    async def _renew_leases(self) -> None:
        # Only jobs claimed before the heartbeat's UPDATE can be judged by its answer.
        snapshot = dict(self.running)
        leases = await self.store.heartbeat(self.id)
        for job_id, running in snapshot.items():
            lease = leases.get(job_id)
            if lease is None or lease.token != running.job.lease_token:
                running.stop(runner.StopReason.LEASE_LOST)
            elif lease.cancel_requested and not running.context.cancelled.is_set():
                self._cancel(running)

    def _cancel(self, running: runner.Running) -> None:
        """Tell the handler, then interrupt it if it has not stopped after a grace."""
        running.context.log.info("cancellation requested; stopping the job")
        running.context.cancelled.set()
        loop = asyncio.get_running_loop()
        loop.call_later(self.options.cancel_grace, running.stop, runner.StopReason.CANCEL_REQUESTED)

    async def _beat(self) -> None:
        await self.workers.beat(
            self.id,
            Heartbeat(
                state=self.state,
                jobs_running=len(self.running),
                jobs_succeeded=self.runner.succeeded,
                jobs_failed=self.runner.failed,
                rss_bytes=memory.rss_bytes(),
            ),
        )

    def _check_memory(self) -> None:
        limit = self.options.memory_limit_bytes
        if limit is None or self._stop_requested.is_set():
            return
        rss = memory.rss_bytes()
        if rss <= limit:
            return
        self.log.warning(
            "memory %.0f MB is over the limit of %.0f MB: finishing running jobs, then "
            "making way for a fresh process",
            rss / 2**20,
            limit / 2**20,
        )
        self.exit_code = ExitCode.RECYCLE
        self._spawn(
            self.hooks.emit(
                "worker_memory_high", worker_id=self.id, rss_bytes=rss, limit_bytes=limit
            ),
            "memory-hook",
        )
        self.request_stop()

    # -- draining ----------------------------------------------------------------------

    async def _drain(self) -> None:
        self.state = WorkerState.DRAINING
        if not self.running:
            return
        for running in self.running.values():
            running.context.stopping.set()
        with contextlib.suppress(errors.DatabaseUnavailable):
            await self._beat()
        grace = 0.0 if self._force.is_set() else self.options.shutdown_grace
        if self.exit_code is ExitCode.RECYCLE:
            grace = self.options.job_timeout  # recycling: let every running job finish
        deadline = time.monotonic() + grace
        while self.running and time.monotonic() < deadline and not self._force.is_set():
            self._slot_freed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(deadline - time.monotonic(), 0.5)):
                    await self._slot_freed.wait()
        if self.running:
            self.log.info("handing %d running jobs back to the queue", len(self.running))
        for running in list(self.running.values()):
            running.stop(runner.StopReason.SHUTDOWN)
        while self.running:
            self._slot_freed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._slot_freed.wait()
