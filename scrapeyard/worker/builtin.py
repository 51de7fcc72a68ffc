"""The job kinds scrapeyard ships: ``noop`` (handlers.py) and ``scrape``, ``map``,
``crawl``, ``crawl.helper`` (crawl_jobs.py). Importing this module registers them."""

from scrapeyard.worker import crawl_jobs, handlers

__all__ = ["crawl_jobs", "handlers"]
