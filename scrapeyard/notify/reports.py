"""The daily and weekly report: what ran, what was fetched, what failed and why.

``build(db, period)`` reads the figures (``queue.reporting``) and renders them as plain
text and simple HTML. A report has fixed parts (jobs, pages, failures, hosts,
datasets) and then any sections registered with ``section``: a feature with more to
say registers a function that returns a ``Section`` (or ``None`` to say nothing)::

    from scrapeyard.notify import reports

    @reports.section
    async def imports(db, since, until):
        return reports.Section("Imports", [("files imported", "12")])
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from scrapeyard.notify import messages
from scrapeyard.queue import reporting
from scrapeyard.queue.database import Database

Period = Literal["daily", "weekly"]
PERIODS: dict[str, float] = {"daily": 86400.0, "weekly": 7 * 86400.0}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Section:
    """A titled table of (name, value) rows."""

    title: str
    rows: Sequence[tuple[str, str]]
    empty: str = "nothing to report"


SectionSource = Callable[[Database, datetime, datetime], Awaitable[Section | None]]
_sources: list[SectionSource] = []


def section(source: SectionSource) -> SectionSource:
    """Register ``source`` to add a section to every report (decorator)."""
    if source not in _sources:
        _sources.append(source)
    return source


@dataclass(frozen=True)
class Report:
    period: Period
    figures: reporting.Figures
    sections: Sequence[Section]

    @property
    def subject(self) -> str:
        f = self.figures
        failed = f.finished.get("failed", 0)
        return (
            f"{messages.PREFIX} {self.period} report for {f.until:%Y-%m-%d}: "
            f"{sum(f.finished.values())} jobs, {failed} failed, {f.pages_fetched} pages"
        )

    def text(self) -> str:
        f = self.figures
        out = [
            f"scrapeyard {self.period} report",
            f"{f.since:%Y-%m-%d %H:%M} to {f.until:%Y-%m-%d %H:%M} UTC",
            "",
        ]
        for part in self.sections:
            out.append(part.title)
            out.append("-" * len(part.title))
            if not part.rows:
                out.append(f"  {part.empty}")
            width = max((len(name) for name, _ in part.rows), default=0)
            out += [f"  {name.ljust(width)}  {value}" for name, value in part.rows]
            out.append("")
        return "\n".join(out)

    def html(self) -> str:
        f = self.figures
        parts = []
        for part in self.sections:
            if part.rows:
                body = "".join(
                    f"<tr><td style='padding-right:1em'>{html.escape(name)}</td>"
                    f"<td align='right'>{html.escape(value)}</td></tr>"
                    for name, value in part.rows
                )
                parts.append(f"<h3>{html.escape(part.title)}</h3><table>{body}</table>")
            else:
                parts.append(f"<h3>{html.escape(part.title)}</h3><p>{html.escape(part.empty)}</p>")
        span = f"{f.since:%Y-%m-%d %H:%M} to {f.until:%Y-%m-%d %H:%M} UTC"
        return messages.page(f"scrapeyard {self.period} report", [("period", span)], parts)


def _fixed_sections(f: reporting.Figures) -> list[Section]:
    kinds = [
        (line.kind, f"{line.succeeded} succeeded, {line.failed} failed, {line.cancelled} cancelled")
        for line in f.by_kind
    ]
    jobs = Section(
        "Jobs",
        [
            ("enqueued", str(f.jobs_created)),
            ("succeeded", str(f.finished.get("succeeded", 0))),
            ("failed", str(f.finished.get("failed", 0))),
            ("cancelled", str(f.finished.get("cancelled", 0))),
            *kinds,
        ],
    )
    pages = Section(
        "Pages",
        [
            ("fetched", str(f.pages_fetched)),
            ("failed", str(f.pages_failed)),
            ("bytes", f"{f.bytes_fetched:,}"),
        ],
    )
    failures = Section(
        "Top failure reasons",
        [(reason, str(count)) for reason, count in f.job_errors]
        + [(f"page: {reason}", str(count)) for reason, count in f.page_errors],
        empty="no failures",
    )
    hosts = Section(
        "Hosts throttled",
        [
            (
                line.host,
                ", ".join(
                    part
                    for part in (
                        f"{line.alerts} rate-limit alerts" if line.alerts else "",
                        f"waited {line.throttled} times" if line.throttled else "",
                        f"circuit {line.circuit}" if line.circuit not in (None, "closed") else "",
                    )
                    if part
                ),
            )
            for line in f.hosts
        ],
        empty="no host throttled crawls",
    )
    datasets = Section(
        "Datasets changed",
        [
            (line.name, f"{line.new} new, {line.changed} changed, {line.gone} gone")
            for line in f.datasets
        ],
        empty="no dataset changed",
    )
    return [jobs, pages, failures, hosts, datasets]


async def build(db: Database, period: Period) -> Report:
    """The report of the ``period`` up to now."""
    figures = await reporting.figures(db, PERIODS[period])
    sections = _fixed_sections(figures)
    for source in list(_sources):
        try:
            extra = await source(db, figures.since, figures.until)
        except Exception:
            log.exception("report section %s failed; left out", getattr(source, "__name__", source))
            continue
        if extra is not None:
            sections.append(extra)
    return Report(period, figures, sections)
