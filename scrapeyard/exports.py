"""Page records as users receive them: JSON objects, JSON lines and CSV rows.

One shape for every way out (the CLI's ``-o``, the API's results and exports): the
response facts (url, status, timings, error) and then the formats the job asked for,
at the top level (``"markdown": ...``, ``"selectors": {"price": ...}``).

CSV has a fixed header decided by the job's formats and selectors, so it can be
streamed; nested values are written as JSON. A cell that a spreadsheet would read as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
prefixed with ``'``, so opening an export cannot run anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

FACTS = (
    "url",
    "final_url",
    "status",
    "ok",
    "depth",
    "fetched_at",
    "content_type",
    "bytes",
    "elapsed",
    "error",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_METADATA_COLUMNS = ("title", "description", "language", "canonical")


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored page record (a ``crawl_pages`` row) as the JSON object users see."""
    fetched_at = row.get("fetched_at")
    out: dict[str, Any] = {
        "url": row["url"],
        "final_url": row.get("final_url"),
        "status": row.get("status"),
        "ok": bool(row.get("ok")),
        "depth": row.get("depth"),
        "fetched_at": fetched_at.isoformat() if isinstance(fetched_at, datetime) else fetched_at,
        "content_type": row.get("content_type"),
        "bytes": row.get("bytes"),
        "elapsed": row.get("elapsed"),
        "content_hash": row.get("content_hash"),
        "error": row.get("error"),
    }
    for name, value in (row.get("data") or {}).items():
        out[name] = value
    return out


def jsonl(records: Iterable[Mapping[str, Any]]) -> Iterable[bytes]:
    """Stored rows as JSON lines."""
    for row in records:
        yield orjson.dumps(record(row)) + b"\n"


def csv_columns(formats: Sequence[str], selector_names: Sequence[str]) -> list[str]:
    """The CSV header for a job with these formats and selectors."""
    columns = list(FACTS)
    for name in formats:
        if name == "selectors":
            columns += [f for f in selector_names if f not in columns]
        elif name == "metadata":
            columns += [f"metadata.{key}" for key in _METADATA_COLUMNS]
        else:
            columns.append(name)
    return columns


def safe_cell(value: Any) -> str:
    """A CSV cell: JSON for nested values, neutralised when it would be a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = orjson.dumps(value).decode()
    else:
        text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_row(row: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    data = record(row)
    selectors = data.get("selectors") or {}
    metadata = data.get("metadata") or {}
    cells = []
    for column in columns:
        if column == "error":
            error = data.get("error")
            value: Any = f"{error.get('type')}: {error.get('message')}" if error else None
        elif column.startswith("metadata."):
            value = metadata.get(column.removeprefix("metadata."))
        elif column in FACTS or column in data:
            value = data.get(column)
        else:
            value = selectors.get(column)
        cells.append(safe_cell(value))
    return cells


class CsvWriter:
    """Encodes rows as CSV text, a line at a time (for streaming)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def header(self) -> bytes:
        self._writer.writerow([safe_cell(c) for c in self.columns])
        return self._take()

    def rows(self, records: Iterable[Mapping[str, Any]]) -> bytes:
        for row in records:
            self._writer.writerow(csv_row(row, self.columns))
        return self._take()
