"""A job's progress as the progress bar draws it: segments, rate and time left.

Crawl jobs (scrape, map, crawl) report ``done``, ``total`` (URLs admitted so far),
``discovered``, ``fetched``, ``failed``, ``queued``, ``skipped`` (robots, scope,
content type), ``bytes``, ``pages_per_second`` and ``elapsed``; other kinds report
``done`` and ``total`` at least. Progress is written at most once a second while the
job runs, so once a crawl has finished its stored counters (exact, over every
participant) take over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapeyard.queue.jobs import Job, JobStatus


@dataclass(frozen=True)
class Segment:
    """One coloured part of the bar, in percent of its width."""

    name: str
    label: str
    count: int
    start: float
    width: float


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None
    percent: float | None
    segments: list[Segment]
    crawl: bool
    discovered: int | None = None
    fetched: int | None = None
    failed: int | None = None
    queued: int | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    bytes: int | None = None
    pages_per_second: float | None = None
    elapsed: float | None = None
    eta: float | None = None

    @property
    def text(self) -> str:
        """What a screen reader says about the bar."""
        unit = " pages" if self.crawl else ""
        if self.total:
            return f"{self.done:,} of {self.total:,}{unit} done"
        return f"{self.done:,}{unit} done"


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _from_counters(counters: Mapping[str, Any]) -> dict[str, Any]:
    """Final crawl counters in the shape of the progress a crawl reports."""
    fetched, failed = counters.get("fetched", 0), counters.get("failed", 0)
    robots = counters.get("skipped_robots", 0)
    return {
        "done": fetched + failed + robots,
        "total": counters.get("admitted"),
        "discovered": counters.get("discovered"),
        "fetched": fetched,
        "failed": failed,
        "queued": counters.get("open", 0),
        "skipped": {
            "robots": robots,
            "scope": counters.get("skipped_scope", 0),
            "content_type": counters.get("skipped_content_type", 0),
        },
        "bytes": counters.get("bytes"),
    }


def of(job: Job, counters: Mapping[str, Any] | None = None) -> Progress | None:
    """The bar for ``job``; ``None`` when it has reported nothing to draw."""
    reported: dict[str, Any] = dict(job.progress or {})
    if counters is not None and (job.finished or not reported):
        timing: dict[str, Any] = {
            k: reported[k] for k in ("pages_per_second", "elapsed") if k in reported
        }
        reported = {**_from_counters(counters), **timing}
    if not reported:
        return None
    crawl = "fetched" in reported
    done = _int(reported.get("done")) or 0
    total = _int(reported.get("total"))
    skipped_raw = reported.get("skipped")
    skipped = (
        {str(k): _int(v) or 0 for k, v in skipped_raw.items()}
        if isinstance(skipped_raw, Mapping)
        else {}
    )
    # Robots-blocked URLs count as done but are not admitted: never let done pass 100 %.
    scale = max(total or 0, done)
    if job.status is JobStatus.SUCCEEDED and scale == 0:
        scale = done = 1
    parts: list[tuple[str, str, int]]
    if crawl:
        parts = [
            ("fetched", "fetched", _int(reported.get("fetched")) or 0),
            ("failed", "failed", _int(reported.get("failed")) or 0),
            ("skipped", "blocked by robots.txt", skipped.get("robots", 0)),
        ]
    else:
        parts = [("done", "done", done)]
    segments: list[Segment] = []
    start = 0.0
    for name, label, count in parts:
        width = 100.0 * count / scale if scale else 0.0
        segments.append(Segment(name, label, count, start, width))
        start += width
    speed = _float(reported.get("pages_per_second"))
    eta = None
    if job.status is JobStatus.RUNNING and speed and total is not None and total > done:
        eta = (total - done) / speed
    return Progress(
        done=done,
        total=total,
        percent=round(100.0 * done / scale, 1) if scale else None,
        segments=segments,
        crawl=crawl,
        discovered=_int(reported.get("discovered")),
        fetched=_int(reported.get("fetched")),
        failed=_int(reported.get("failed")),
        queued=_int(reported.get("queued")),
        skipped=skipped,
        bytes=_int(reported.get("bytes")),
        pages_per_second=speed,
        elapsed=_float(reported.get("elapsed")),
        eta=eta,
    )
