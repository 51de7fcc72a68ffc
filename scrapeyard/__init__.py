"""scrapeyard: web scraping and crawling jobs on a durable SQL job queue."""

import typing

from scrapeyard.connect import open_store
from scrapeyard.errors import PermanentError, RetryLater, ScrapeyardError
from scrapeyard.queue.jobs import Job, JobSpec, JobStatus
from scrapeyard.queue.retry import RetryPolicy
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.events import on
from scrapeyard.worker.handlers import job_kind

if typing.TYPE_CHECKING:
    from scrapeyard.client import Client, SyncClient

__version__ = "0.1.0"

# The HTTP client is for scripts talking to a server; worker processes never need it,
# so it is imported on first use rather than with every ``import scrapeyard``.
_LAZY = {"Client", "SyncClient"}


def __getattr__(name: str) -> typing.Any:
    if name in _LAZY:
        from scrapeyard import client

        return getattr(client, name)
    raise AttributeError(f"module 'scrapeyard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)


__all__ = [
    "Client",
    "Job",
    "JobContext",
    "JobSpec",
    "JobStatus",
    "JobStore",
    "PermanentError",
    "RetryLater",
    "RetryPolicy",
    "ScrapeyardError",
    "SyncClient",
    "__version__",
    "job_kind",
    "on",
    "open_store",
]
