"""What the overview shows, gathered once for the page and again for each live update.

The page and its event stream render the same section templates from the same
``Overview``, so what arrives live is exactly what a reload would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scrapeyard.api import deps
from scrapeyard.queue import dashboard, hosts, queries
from scrapeyard.queue.jobs import Job, JobStatus
from scrapeyard.queue.workers import WorkerInfo, WorkerState
from scrapeyard.web import charts, rendering
from scrapeyard.web.viewer import Viewer

SECTIONS = {
    "ov-queues": "overview/_queues.html",
    "ov-throughput": "overview/_throughput.html",
    "ov-workers": "overview/_workers.html",
    "ov-hosts": "overview/_hosts.html",
    "ov-failures": "overview/_failures.html",
}
"""Element id -> the template that renders it."""
RECENT_FAILURES = 8
THROTTLE_WINDOW = 10.0
"""Seconds since a host's bucket was last asked for a token, within which an empty bucket
means a crawl is waiting for it now (a slow rate stretches this to three intervals)."""
CIRCUIT_REPORT_LIFE = 60.0
"""Seconds an open circuit reported without a cool-down is taken to stay open."""


@dataclass(frozen=True)
class HostAttention:
    """A host that is holding crawls back, and why."""

    info: hosts.HostInfo
    reasons: list[str]


@dataclass(frozen=True)
class Overview:
    queues: list[queries.QueueInfo]
    statuses: list[str]
    charts: list[charts.Chart]
    workers: list[WorkerInfo]
    stale_workers: int
    hosts: list[HostAttention]
    failures: list[Job]
    memory_limit: int
    """Bytes of RSS at which a worker process is recycled."""
    now: datetime


def needs_attention(info: hosts.HostInfo, now: datetime) -> list[str]:
    """Why a host holds crawls back now: an open circuit, or an empty token bucket that
    crawls keep asking for (every request for a token, granted or not, touches the row)."""
    reasons = []
    age = now - info.updated_at if info.updated_at is not None else None
    circuit = info.circuit or {}
    state = circuit.get("state")
    retry_in = circuit.get("retry_in")
    cool_down = float(retry_in) if isinstance(retry_in, int | float) else CIRCUIT_REPORT_LIFE
    # Workers report circuits when a crawl ends; one past its cool-down is stale news.
    if state in ("open", "half_open") and age is not None:
        if age <= timedelta(seconds=cool_down + THROTTLE_WINDOW):
            reasons.append(f"circuit {str(state).replace('_', '-')}")
    window = timedelta(seconds=max(THROTTLE_WINDOW, 3 / info.rate if info.rate > 0 else 0))
    if info.rate > 0 and info.tokens < 1 and age is not None and age <= window:
        reasons.append(f"throttled to {info.rate:g}/s")
    return reasons


async def gather(res: deps.Resources) -> Overview:
    store = res.store
    stale_after = 3 * res.settings.queue.heartbeat_interval
    every_worker = await res.workers.list(stale_after=stale_after)
    alive = [w for w in every_worker if w.state is not WorkerState.STOPPED and not w.stale]
    now = datetime.now(UTC)
    attention = []
    for info in await hosts.overview(store.db):
        reasons = needs_attention(info, now)
        if reasons:
            attention.append(HostAttention(info, reasons))
    failed = await store.list_jobs(
        queries.JobFilter(status=[JobStatus.FAILED]), limit=RECENT_FAILURES
    )
    return Overview(
        queues=await store.queues(),
        statuses=[str(status) for status in JobStatus],
        charts=charts.throughput_charts(await dashboard.throughput(store.db)),
        workers=alive,
        stale_workers=sum(1 for w in every_worker if w.stale),
        hosts=attention,
        failures=failed.jobs,
        memory_limit=res.settings.worker.memory_limit_mb * 1024 * 1024,
        now=now,
    )


def sections(overview: Overview, viewer: Viewer) -> dict[str, str]:
    """Each live section of the overview, rendered."""
    context = {"ov": overview, "viewer": viewer}
    return {element: rendering.render(name, context) for element, name in SECTIONS.items()}
