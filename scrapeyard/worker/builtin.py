"""The job kinds scrapeyard ships: ``noop`` (handlers.py), ``scrape``, ``map``,
``crawl``, ``crawl.helper`` (crawl_jobs.py) and ``webhook.deliver``, ``email.send``,
``report.send`` (notify_kinds.py), ``import`` (import_jobs.py), ``export``
(export_jobs.py) and ``dataset.archive`` (archive_jobs.py). Importing this module
registers them."""

from scrapeyard.worker import (
    archive_jobs,
    crawl_jobs,
    export_jobs,
    handlers,
    import_jobs,
    notify_kinds,
)

__all__ = [
    "archive_jobs",
    "crawl_jobs",
    "export_jobs",
    "handlers",
    "import_jobs",
    "notify_kinds",
]
