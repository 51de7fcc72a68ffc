"""Check a crawler's JSONL output and the server's request log against the site manifest.

A record is one JSON object per line with at least ``url``; the extracted fields are read
from the top level or from a nested ``selectors``/``fields``/``data`` object, and a list
value counts by its first item. URLs are compared in canonical form (no fragment, no
``utm_*`` parameters), the same form the site generator uses for its links. A page counts
as stored when its record has status 200 (or no ``status`` field).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import site

FIELDS = ("title", "price", "sku")
_NESTED = ("selectors", "fields", "data")


@dataclass(frozen=True)
class Verdict:
    """How correct one crawl was."""

    records: int  # JSON lines written
    bad_lines: int  # lines that are not a JSON object with a "url"
    pages: int  # distinct allowed, reachable pages stored with status 200
    errors: int  # records with a status other than 200
    coverage: float  # pages / allowed, reachable pages on the site
    duplicates: int  # records beyond the first for the same page
    outside: int  # records for URLs that are neither allowed pages nor on the site
    disallowed_stored: int  # records of fetched pages that robots.txt forbids
    wrong_fields: int  # product records whose title, price or SKU differ from the manifest
    requests: int | None  # requests the server saw during the crawl
    disallowed_requested: int | None  # of those, for URLs robots.txt forbids
    refetched: int | None  # requests for a page the crawler had already requested

    @property
    def disallowed(self) -> int:
        """Robots violations: requests seen by the server, else records stored."""
        return max(self.disallowed_requested or 0, self.disallowed_stored)


def _field(record: dict[str, Any], name: str) -> Any:
    value = record.get(name)
    if value is None:
        for key in _NESTED:
            nested = record.get(key)
            if isinstance(nested, dict) and name in nested:
                value = nested[name]
                break
    if isinstance(value, list):
        value = value[0] if value else None
    return value.strip() if isinstance(value, str) else value


def _read_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    records, bad = [], 0
    if not path.exists():
        return records, bad
    with path.open(encoding="utf-8", errors="replace") as file:
        for line in file:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(record, dict) and isinstance(record.get("url"), str):
                records.append(record)
            else:
                bad += 1
    return records, bad


def check(
    output: Path,
    manifest: site.Manifest,
    requests: list[tuple[int, str]] | None = None,
) -> Verdict:
    """Compare ``output`` (JSONL) and the server's ``requests`` with ``manifest``."""
    allowed = set(manifest["allowed"])
    products = manifest["products"]
    records, bad = _read_records(output)
    counts: Counter[str] = Counter()
    outside = disallowed = wrong = errors = 0
    stored: set[str] = set()
    for record in records:
        uri = site.canonical_uri(record["url"])
        counts[uri] += 1
        if counts[uri] > 1:
            continue
        if record.get("status", 200) != 200:
            errors += 1
        elif uri in allowed:
            stored.add(uri)
        if not site.robots_allows(uri):
            # A record with no HTTP status reports a URL that was not fetched (a crawler
            # noting "robots.txt disallows this"); only fetched ones break the rules.
            if record.get("status", 200) is not None:
                disallowed += 1
        elif uri not in allowed:
            outside += 1
        elif uri in products:
            got = [_field(record, name) for name in FIELDS]
            wrong += got != products[uri]
    seen_requests: Counter[str] | None = None
    if requests is not None:
        seen_requests = Counter(site.canonical_uri(uri) for _, uri in requests)
    return Verdict(
        records=len(records),
        bad_lines=bad,
        pages=len(stored),
        errors=errors,
        coverage=len(stored) / len(allowed),
        duplicates=sum(count - 1 for count in counts.values()),
        outside=outside,
        disallowed_stored=disallowed,
        wrong_fields=wrong,
        requests=len(requests) if requests is not None else None,
        disallowed_requested=(
            sum(n for uri, n in seen_requests.items() if not site.robots_allows(uri))
            if seen_requests is not None
            else None
        ),
        refetched=(
            sum(n - 1 for uri, n in seen_requests.items() if n > 1)
            if seen_requests is not None
            else None
        ),
    )
