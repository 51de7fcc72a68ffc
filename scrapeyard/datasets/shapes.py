"""Dataset records as users receive them: JSON objects, JSON lines and CSV rows.

A record in JSON keeps what the dataset knows about it apart from its data::

    {"key": {"email": "ann@example.com"}, "state": "changed",
     "first_seen_at": "...", "last_seen_at": "...", "data": {...}}

In CSV the data fields are the columns (nested values as JSON), after ``_state``,
``_first_seen_at`` and ``_last_seen_at`` (underscored so that a data field called
``state`` keeps its name). Cells a spreadsheet would take for a formula are neutralised
as in every other export (``exports.safe_cell``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from scrapeyard import exports

META_COLUMNS = ("_state", "_first_seen_at", "_last_seen_at")


def _time(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored record (a ``dataset_records`` row) as the JSON object users see."""
    return {
        "key": row["key"],
        "state": row["state"],
        "first_seen_at": _time(row["first_seen_at"]),
        "last_seen_at": _time(row["last_seen_at"]),
        "data": row["data"],
    }


def jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Stored records as JSON lines."""
    return b"".join(orjson.dumps(record(row)) + b"\n" for row in rows)


class CsvWriter(exports.CsvWriter):
    """Encodes records as CSV text with a fixed header, a batch at a time."""

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__((*META_COLUMNS, *fields))
        self.fields = list(fields)

    def rows(self, records: Iterable[Mapping[str, Any]]) -> bytes:
        for row in records:
            data = row["data"] or {}
            meta = (row["state"], _time(row["first_seen_at"]), _time(row["last_seen_at"]))
            self._writer.writerow(
                [exports.safe_cell(v) for v in meta]
                + [exports.safe_cell(data.get(name)) for name in self.fields]
            )
        return self._take()
