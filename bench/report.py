"""The benchmark's report: one row per crawler and site, the table, ratios and targets."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from bench import measure, verify

MB = 1024 * 1024

#: The issue's targets for scrapeyard, all in the same run.
MIN_SPEEDUP = 5.0  # pages/s against Scrapy's
MAX_RSS_GROWTH = 1.5  # peak RSS at 50k pages against 10k


@dataclass(frozen=True)
class Row:
    """One crawler on one site: what it cost and how correct it was, or why it did not run."""

    site_pages: int
    name: str
    note: str = ""
    measurement: measure.Measurement | None = None
    verdict: verify.Verdict | None = None
    server_cpu_s: float | None = None
    database_cpu_s: float | None = None

    @property
    def ran(self) -> bool:
        return self.measurement is not None and self.verdict is not None

    @property
    def pages_per_s(self) -> float:
        assert self.measurement is not None and self.verdict is not None
        return self.verdict.pages / self.measurement.wall_s


def summary(row: Row) -> str:
    """One line for the progress output."""
    assert row.measurement is not None and row.verdict is not None
    m, v = row.measurement, row.verdict
    text = (
        f"{v.pages} pages in {m.wall_s:.1f} s = {row.pages_per_s:.0f} pages/s, "
        f"CPU {m.cpu_s:.1f} s, peak RSS {m.peak_rss / MB:.0f} MB, coverage {v.coverage:.2%}"
    )
    return text + (f" [{row.note}]" if row.note else "")


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[Row], server_kind: str) -> None:
    header = (
        f"{'crawler':<22} {'site':>6} {'pages':>6} {'pages/s':>8} {'wall s':>7} {'CPU s':>7} "
        f"{'ms/page':>7} {'RSS MB':>7} {'coverage':>8} {'robots':>6} {'dupes':>5} "
        f"{'refetch':>7} {'errors':>6} {'wrong':>5} {'srv CPU':>7} {'db CPU':>6}"
    )
    print(f"\nResults (peak RSS of the crawler's process tree; server: {server_kind})")
    print(header)
    print("-" * len(header))
    for row in rows:
        if not row.ran:
            print(f"{row.name:<22} {row.site_pages:>6} {row.note}")
            continue
        assert row.measurement is not None and row.verdict is not None
        m, v = row.measurement, row.verdict
        print(
            f"{row.name:<22} {row.site_pages:>6} {v.pages:>6} {row.pages_per_s:>8.1f} "
            f"{m.wall_s:>7.1f} {m.cpu_s:>7.1f} {1000 * m.cpu_s / max(v.pages, 1):>7.2f} "
            f"{m.peak_rss / MB:>7.0f} {v.coverage:>8.2%} {v.disallowed:>6} {v.duplicates:>5} "
            f"{_fmt(v.refetched, '7d')} {v.errors:>6} {v.wrong_fields:>5} "
            f"{_fmt(row.server_cpu_s, '7.1f')} {_fmt(row.database_cpu_s, '6.1f')}"
            + (f"  [{row.note}]" if row.note else "")
        )
    print(
        "pages = distinct allowed pages stored with status 200; coverage = pages / allowed, "
        "reachable pages\nrobots = disallowed URLs requested (server log); dupes = records for "
        "a page already stored\nrefetch = requests for a URL already requested (server log); "
        "errors = records with a status other than 200\nwrong = product records whose title, "
        "price or SKU differ from the site's\nsrv CPU, db CPU = CPU seconds of the web server "
        "and of PostgreSQL during the crawl"
    )


def _find(rows: list[Row], name: str, pages: int) -> Row | None:
    for row in rows:
        if row.name == name and row.site_pages == pages and row.ran:
            return row
    return None


def print_ratios(rows: list[Row]) -> None:
    print("\nAgainst Scrapy (same site): pages/s, CPU per page, peak RSS")
    if not any(row.name == "scrapy" and row.ran for row in rows):
        print("  (Scrapy did not run)")
    for row in rows:
        scrapy = _find(rows, "scrapy", row.site_pages)
        if scrapy is None or row is scrapy or not row.ran:
            continue
        assert row.measurement is not None and scrapy.measurement is not None
        assert row.verdict is not None and scrapy.verdict is not None
        cpu_per_page = row.measurement.cpu_s / max(row.verdict.pages, 1)
        scrapy_cpu_per_page = scrapy.measurement.cpu_s / max(scrapy.verdict.pages, 1)
        print(
            f"  {row.name:<22} {row.site_pages:>6}: {row.pages_per_s / scrapy.pages_per_s:5.2f}x "
            f"pages/s, {cpu_per_page / scrapy_cpu_per_page:5.2f}x CPU/page, "
            f"{row.measurement.peak_rss / scrapy.measurement.peak_rss:5.2f}x RSS"
        )


def _rss_growth(rows: list[Row], name: str, small: int, large: int) -> float | None:
    low, high = _find(rows, name, small), _find(rows, name, large)
    if low is None or high is None:
        return None
    assert low.measurement is not None and high.measurement is not None
    return high.measurement.peak_rss / low.measurement.peak_rss


def print_targets(rows: list[Row], small: int, large: int | None) -> bool | None:
    """The issue's targets per scrapeyard backend: all met, not all, or None if none ran."""
    if large is not None:
        print(f"\nMemory scaling: peak RSS at {large} pages against {small}")
        for row in rows:
            growth = _rss_growth(rows, row.name, small, large) if row.site_pages == small else None
            if growth is not None:
                print(f"  {row.name:<22} {growth:5.2f}x")
    print("\nTargets (issue 4), per scrapeyard backend")
    scrapy = _find(rows, "scrapy", small)
    met: bool | None = None
    for row in rows:
        if not row.name.startswith("scrapeyard") or row.site_pages != small:
            continue
        if not row.ran:
            print(f"  {row.name}: not run ({row.note})")
            continue
        assert row.measurement is not None and row.verdict is not None
        checks = {
            "exit 0": row.note == "",
            "coverage 100%": row.verdict.coverage == 1.0,
            "no robots-disallowed page fetched": row.verdict.disallowed == 0,
            "no page stored twice": row.verdict.duplicates == 0,
            "extraction matches the site": row.verdict.wrong_fields == 0,
        }
        if scrapy is not None:
            assert scrapy.measurement is not None
            checks[f"pages/s >= {MIN_SPEEDUP:g}x Scrapy"] = (
                row.pages_per_s >= MIN_SPEEDUP * scrapy.pages_per_s
            )
            checks["peak RSS <= Scrapy"] = row.measurement.peak_rss <= scrapy.measurement.peak_rss
        growth = _rss_growth(rows, row.name, small, large) if large is not None else None
        if growth is not None:
            checks[f"peak RSS at {large} <= {MAX_RSS_GROWTH:g}x at {small}"] = (
                growth <= MAX_RSS_GROWTH
            )
        for label, ok in checks.items():
            print(f"  {row.name}: {'PASS' if ok else 'FAIL'}  {label}")
            met = ok if met is None else met and ok
    return met


def save(rows: list[Row], path: Path, context: dict[str, object]) -> None:
    def encode(row: Row) -> dict[str, object]:
        data = dataclasses.asdict(row)
        if row.ran:
            data["pages_per_s"] = row.pages_per_s
        return data

    path.write_text(json.dumps({**context, "rows": [encode(row) for row in rows]}, indent=2))
