"""What the progress bar and the throughput charts draw."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from scrapeyard.queue import retry
from scrapeyard.queue.dashboard import Throughput
from scrapeyard.queue.jobs import Job, JobStatus
from scrapeyard.web import charts, progress

AT = datetime(2025, 1, 1, tzinfo=UTC)


def job(status: JobStatus, progress_: dict[str, Any] | None, kind: str = "crawl") -> Job:
    known: dict[str, Any] = {
        "id": 1,
        "kind": kind,
        "queue": "default",
        "payload": {},
        "priority": 0,
        "status": status,
        "run_at": AT,
        "attempts": 1,
        "max_attempts": 3,
        "retry": retry.RetryPolicy(),
        "cancel_requested": False,
        "progress": progress_,
        "created_at": AT,
        "started_at": AT,
        "updated_at": AT,
    }
    # Every other field (lease, result, error, ...) is empty for these figures.
    return Job(**{f.name: known.get(f.name) for f in dataclasses.fields(Job)})


RUNNING = {
    "done": 30,
    "total": 100,
    "discovered": 140,
    "fetched": 25,
    "failed": 3,
    "queued": 70,
    "skipped": {"robots": 2, "scope": 9, "content_type": 1},
    "bytes": 12_345,
    "pages_per_second": 10.0,
    "elapsed": 3.0,
}


def test_a_running_crawl_shows_its_parts_rate_and_time_left() -> None:
    bar = progress.of(job(JobStatus.RUNNING, RUNNING))
    assert bar is not None and bar.crawl
    assert [(s.name, s.count) for s in bar.segments] == [
        ("fetched", 25),
        ("failed", 3),
        ("skipped", 2),
    ]
    assert [round(s.start, 1) for s in bar.segments] == [0.0, 25.0, 28.0]
    assert bar.percent == 30.0
    assert bar.eta == 7.0
    assert bar.text == "30 of 100 pages done"


def test_a_finished_crawl_shows_its_final_counters() -> None:
    counters = {
        "admitted": 40,
        "discovered": 60,
        "fetched": 38,
        "failed": 2,
        "skipped_robots": 3,
        "skipped_scope": 0,
        "skipped_content_type": 0,
        "bytes": 1000,
        "open": 0,
    }
    bar = progress.of(job(JobStatus.SUCCEEDED, RUNNING), counters)
    assert bar is not None
    assert (bar.done, bar.total, bar.fetched, bar.eta) == (43, 40, 38, None)
    # Robots-blocked URLs are not admitted: the bar is scaled so it never overflows.
    assert sum(s.width for s in bar.segments) == 100.0
    assert bar.pages_per_second == 10.0


def test_other_kinds_show_done_of_total_or_nothing() -> None:
    bar = progress.of(job(JobStatus.RUNNING, {"done": 1, "total": 4}, kind="send_report"))
    assert bar is not None and not bar.crawl and bar.percent == 25.0
    assert progress.of(job(JobStatus.QUEUED, None, kind="noop")) is None


def test_charts_stack_each_minute_under_a_round_peak() -> None:
    minutes = 5
    figures = Throughput(
        minutes=minutes,
        jobs={"succeeded": [0, 3, 0, 0, 1], "failed": [0, 4, 0, 0, 0], "cancelled": [0] * 5},
        pages=[0, 0, 12, 0, 0],
        page_errors=[0, 0, 1, 0, 0],
    )
    jobs_chart, pages_chart = charts.throughput_charts(figures)
    assert jobs_chart.peak == 10 and jobs_chart.total == 8
    first, second = (bar for bar in jobs_chart.bars if bar.x < 20)
    assert (first.name, first.height, first.y) == ("succeeded", 30.0, 70.0)
    assert (second.name, second.height, second.y) == ("failed", 40.0, 30.0)
    assert first.title == "3 min ago: 3 succeeded, 4 failed"
    assert pages_chart.peak == 20
    assert "13 " not in pages_chart.summary and "12 fetched" in pages_chart.summary
