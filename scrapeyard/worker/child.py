"""A worker process as the supervisor starts it: ``python -m scrapeyard.worker.child``.

The supervisor writes the process's ``WorkerPlan`` as JSON to its stdin (not argv, which
any user can read with ``ps`` and which would show the database password). A separate
interpreter, rather than a fork, keeps the process lean: it imports what a worker needs
and nothing of the CLI or the API.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from scrapeyard import config, connect, errors, logs
from scrapeyard.notify import runtime as notify_runtime
from scrapeyard.worker import handlers, process
from scrapeyard.worker.queues import QueueSelector
from scrapeyard.worker.resources import Resources


@dataclass(frozen=True)
class WorkerPlan:
    """What each worker process is told."""

    settings: dict[str, Any]
    queues: str
    concurrency: int
    burst: bool
    supervisor: str

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> WorkerPlan:
        return cls(**orjson.loads(data))


async def run(settings: config.Settings, plan: WorkerPlan) -> int:
    options = process.WorkerOptions.from_settings(
        settings,
        queues=QueueSelector.parse(plan.queues),
        concurrency=plan.concurrency,
        burst=plan.burst,
        supervisor=plan.supervisor,
    )
    notify_runtime.configure(settings)
    async with connect.open_store(settings, pool_size=4) as store:
        worker_id = process.new_worker_id()
        worker = process.WorkerProcess(
            store,
            options,
            worker_id=worker_id,
            resources=Resources.from_settings(store, settings, worker_id=worker_id),
        )
        worker.install_signal_handlers((signal.SIGTERM,))
        return await worker.run()


def main() -> None:
    # Ctrl-C reaches the whole process group; the supervisor decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    plan = WorkerPlan.from_json(sys.stdin.buffer.read())
    settings = config.Settings(**plan.settings)
    logs.configure(
        settings.log_level,
        settings.log_format,
        secrets_to_mask=[make_url(settings.database_url).password],
    )
    try:
        handlers.import_modules(settings.imports)
        code = asyncio.run(run(settings, plan))
    except errors.ScrapeyardError as exc:
        logging.getLogger("scrapeyard.worker").error("worker process cannot start: %s", exc)
        code = 1
    sys.exit(int(code))


if __name__ == "__main__":
    main()
