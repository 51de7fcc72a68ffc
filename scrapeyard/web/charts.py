"""Per-minute bar charts, drawn as inline SVG by the templates: no chart library.

The SVG holds only the bars (its view box is one unit tall per count, ten units wide
per minute, and stretched to the card's width); labels and the legend are HTML, so
they stay legible at any width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scrapeyard.queue.dashboard import Throughput

MINUTE_WIDTH = 10
BAR_WIDTH = 8
HEIGHT = 100


@dataclass(frozen=True)
class Series:
    name: str
    """CSS class of its bars."""
    label: str
    counts: Sequence[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    name: str
    title: str


@dataclass(frozen=True)
class Chart:
    label: str
    minutes: int
    series: list[Series]
    bars: list[Bar]
    peak: int

    @property
    def width(self) -> int:
        return self.minutes * MINUTE_WIDTH

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)

    @property
    def summary(self) -> str:
        parts = ", ".join(f"{s.total:,} {s.label}" for s in self.series)
        return f"{self.label} per minute over the last {self.minutes} minutes: {parts}"


def _ceiling(value: int) -> int:
    """A round upper bound for the axis: 1, 2, 5, 10, 20, 50, ..."""
    bound = 1
    while True:
        for step in (1, 2, 5):
            if step * bound >= value:
                return step * bound
        bound *= 10


def stacked(label: str, series: Sequence[Series], minutes: int) -> Chart:
    """Bars per minute (oldest first), each stacking the series in order."""
    sums = [sum(s.counts[i] for s in series) for i in range(minutes)]
    peak = _ceiling(max(sums, default=0) or 1)
    bars: list[Bar] = []
    for i in range(minutes):
        base = float(HEIGHT)
        ago = minutes - 1 - i
        when = "this minute" if ago == 0 else f"{ago} min ago"
        details = ", ".join(f"{s.counts[i]:,} {s.label}" for s in series if s.counts[i])
        for s in series:
            count = s.counts[i]
            if not count:
                continue
            height = HEIGHT * count / peak
            base -= height
            bars.append(
                Bar(
                    x=i * MINUTE_WIDTH + (MINUTE_WIDTH - BAR_WIDTH) / 2,
                    y=round(base, 2),
                    height=round(height, 2),
                    name=s.name,
                    title=f"{when}: {details}",
                )
            )
    return Chart(label=label, minutes=minutes, series=list(series), bars=bars, peak=peak)


def throughput_charts(figures: Throughput) -> list[Chart]:
    """The overview's two charts: jobs finished, and pages stored, per minute."""
    none = [0] * figures.minutes
    jobs = stacked(
        "Jobs finished",
        [
            Series("succeeded", "succeeded", figures.jobs.get("succeeded", none)),
            Series("failed", "failed", figures.jobs.get("failed", none)),
            Series("cancelled", "cancelled", figures.jobs.get("cancelled", none)),
        ],
        figures.minutes,
    )
    pages = stacked(
        "Pages fetched",
        [
            Series("fetched", "fetched", figures.pages),
            Series("failed", "failed or skipped", figures.page_errors),
        ],
        figures.minutes,
    )
    return [jobs, pages]
