"""The API's routers, one module per resource. ``ALL`` is what ``create_app`` includes."""

from __future__ import annotations

from fastapi import APIRouter

from scrapeyard.api.routers import (
    crawl,
    events,
    health,
    jobs,
    keys,
    metrics,
    queues,
    schedules,
    workers,
)
from scrapeyard.api.routers import datasets as dataset_routes
from scrapeyard.api.routers import imports as import_routes
from scrapeyard.api.routers import webhooks as webhook_routes

ALL: list[APIRouter] = [
    jobs.router,
    events.router,
    crawl.router,
    schedules.router,
    queues.router,
    workers.router,
    keys.router,
    health.router,
    metrics.router,
    webhook_routes.router,
    dataset_routes.router,
    import_routes.router,
]

TAGS = [
    {"name": "jobs", "description": "Enqueue jobs, follow them, cancel, retry and delete them."},
    {
        "name": "crawling",
        "description": "Scrape pages, crawl and map sites; page records, errors, exports; "
        "the hosts crawls touch.",
    },
    {
        "name": "schedules",
        "description": "Recurring jobs on a cron expression or an interval; their fire times.",
    },
    {"name": "queues", "description": "Jobs per queue and status; pause and resume queues."},
    {"name": "workers", "description": "Worker processes on every host, from their heartbeats."},
    {"name": "keys", "description": "The API key a request is made with."},
    {"name": "health", "description": "Liveness and readiness, without a key."},
    {"name": "metrics", "description": "Prometheus metrics, read from the database."},
    {
        "name": "webhooks",
        "description": "Signed webhooks: subscriptions, deliveries with every attempt, redelivery.",
    },
    {
        "name": "datasets",
        "description": "Record collections that accumulate across runs: settings, records by "
        "state, what changed, rejects, exports; file imports.",
    },
]
"""OpenAPI tag descriptions, in the order the docs show them."""
