"""Prometheus metrics read from the database at scrape time, so every process agrees.

Nothing is counted in this process's memory: a scrape reads a ``Snapshot`` of the
queue, finished jobs and worker heartbeats (a few grouped queries), and a collector
turns it into metric families for ``prometheus_client`` to render. Any API process on
any host gives the same figures, and a restart loses nothing.

Figures about finished jobs cover the jobs the database keeps (``queue.retention``,
seven days by default); they drop when old jobs are purged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from scrapeyard.queue import statistics
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.queue.store import JobStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Snapshot:
    """Every figure of one scrape."""

    depth: dict[str, dict[str, int]]
    """Jobs per queue and status."""
    paused: frozenset[str]
    finished: list[statistics.Finished]
    durations: list[statistics.Durations]
    workers: list[statistics.WorkerFigures]
    crawls: statistics.CrawlFigures


async def read_snapshot(store: JobStore) -> Snapshot:
    """Read every figure from the database."""
    figures = statistics.Statistics(store.db)
    return Snapshot(
        depth=await store.counts(),
        paused=frozenset(await store.paused_queues()),
        finished=await figures.finished(),
        durations=await figures.durations(),
        workers=await figures.workers(),
        crawls=await figures.crawls(),
    )


class SnapshotCollector(Collector):
    """Metric families from one ``Snapshot``."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._jobs()
        yield from self._workers()
        yield from self._crawls()

    def _crawls(self) -> Iterator[Metric]:
        crawl = self.snapshot.crawls
        pages = GaugeMetricFamily(
            "scrapeyard_pages_fetched",
            "Pages fetched by the crawls kept in the database, by HTTP status class.",
            labels=["status_class"],
        )
        for status_class, count in sorted(crawl.pages_by_class.items()):
            pages.add_metric([status_class], count)
        yield pages
        yield GaugeMetricFamily(
            "scrapeyard_bytes_downloaded",
            "Bytes downloaded by the crawls kept in the database.",
            value=crawl.bytes,
        )
        throttled = GaugeMetricFamily(
            "scrapeyard_host_throttle_waits",
            "Times a request to the host had to wait for its rate limit, since the host "
            "was first crawled.",
            labels=["host"],
        )
        for host, waits in sorted(crawl.throttled.items()):
            throttled.add_metric([host], waits)
        yield throttled
        yield GaugeMetricFamily(
            "scrapeyard_hosts_circuit_open",
            "Hosts whose circuit breaker a worker last reported open.",
            value=len(crawl.open_circuits),
        )

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "scrapeyard_queue_jobs",
            "Jobs in each queue by status.",
            labels=["queue", "status"],
        )
        paused = GaugeMetricFamily(
            "scrapeyard_queue_paused",
            "1 if workers claim nothing from the queue, else 0.",
            labels=["queue"],
        )
        for queue in sorted(set(self.snapshot.depth) | self.snapshot.paused):
            counts = self.snapshot.depth.get(queue, {})
            for status in JobStatus:
                depth.add_metric([queue, str(status)], counts.get(str(status), 0))
            paused.add_metric([queue], 1 if queue in self.snapshot.paused else 0)
        yield depth
        yield paused

    def _jobs(self) -> Iterator[Metric]:
        finished = GaugeMetricFamily(
            "scrapeyard_jobs_finished",
            "Finished jobs kept in the database (queue.retention), by kind and outcome.",
            labels=["kind", "outcome"],
        )
        for done in self.snapshot.finished:
            finished.add_metric([done.kind, done.outcome], done.count)
        yield finished
        durations = HistogramMetricFamily(
            "scrapeyard_job_duration_seconds",
            "Run time of the last attempt of succeeded and failed jobs kept in the database.",
            labels=["kind", "outcome"],
        )
        for timing in self.snapshot.durations:
            buckets = [
                (_bound(bound), count)
                for bound, count in zip(statistics.DURATION_BUCKETS, timing.cumulative, strict=True)
            ]
            buckets.append(("+Inf", timing.count))
            durations.add_metric(
                [timing.kind, timing.outcome], buckets, sum_value=timing.total_seconds
            )
        yield durations

    def _workers(self) -> Iterator[Metric]:
        processes = GaugeMetricFamily(
            "scrapeyard_worker_processes",
            "Worker processes that have not stopped, by host and state.",
            labels=["host", "state"],
        )
        rss = GaugeMetricFamily(
            "scrapeyard_worker_rss_bytes",
            "Resident memory of each worker process at its latest heartbeat.",
            labels=["worker", "host", "pid"],
        )
        running = GaugeMetricFamily(
            "scrapeyard_worker_jobs_running",
            "Jobs each worker process was running at its latest heartbeat.",
            labels=["worker", "host", "pid"],
        )
        age = GaugeMetricFamily(
            "scrapeyard_worker_heartbeat_age_seconds",
            "Seconds since each worker process's latest heartbeat (a growing age: it died).",
            labels=["worker", "host", "pid"],
        )
        by_host: dict[tuple[str, str], int] = {}
        for worker in self.snapshot.workers:
            labels = [worker.id, worker.host, str(worker.pid)]
            rss.add_metric(labels, worker.rss_bytes)
            running.add_metric(labels, worker.jobs_running)
            age.add_metric(labels, round(worker.heartbeat_age, 3))
            by_host[(worker.host, worker.state)] = by_host.get((worker.host, worker.state), 0) + 1
        for (host, state), count in sorted(by_host.items()):
            processes.add_metric([host, state], count)
        yield processes
        yield rss
        yield running
        yield age


def _bound(bound: float) -> str:
    return str(float(bound))


def render(snapshot: Snapshot) -> bytes:
    """The Prometheus text exposition of ``snapshot``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry)
