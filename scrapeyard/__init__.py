"""scrapeyard: web scraping and crawling jobs on a durable SQL job queue."""

from scrapeyard.client import Client, SyncClient
from scrapeyard.connect import open_store
from scrapeyard.errors import PermanentError, RetryLater, ScrapeyardError
from scrapeyard.queue.jobs import Job, JobSpec, JobStatus
from scrapeyard.queue.retry import RetryPolicy
from scrapeyard.queue.store import JobStore
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.events import on
from scrapeyard.worker.handlers import job_kind

__version__ = "0.1.0"

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
