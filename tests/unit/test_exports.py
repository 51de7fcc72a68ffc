"""Records as users receive them: JSON objects and CSV rows that cannot run formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import orjson
import pytest

from scrapeyard import exports

ROW = {
    "id": 7,
    "url": "https://example.com/p/1",
    "final_url": "https://example.com/p/1",
    "status": 200,
    "ok": True,
    "depth": 1,
    "fetched_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "content_type": "text/html",
    "bytes": 1234,
    "elapsed": 0.05,
    "content_hash": "ab" * 16,
    "error": None,
    "data": {
        "selectors": {"title": '=HYPERLINK("http://evil")', "price": "-12.50", "sku": "A1"},
        "metadata": {"title": "Page", "description": None, "language": "en", "canonical": None},
        "links": ["https://example.com/a"],
    },
}


def test_record_puts_formats_at_the_top_level() -> None:
    out = exports.record(ROW)
    assert out["url"] == ROW["url"]
    assert out["fetched_at"] == "2026-01-02T03:04:05+00:00"
    assert out["selectors"]["sku"] == "A1"
    assert out["links"] == ["https://example.com/a"]
    assert "data" not in out and "id" not in out


def test_jsonl_is_one_object_per_line() -> None:
    lines = b"".join(exports.jsonl([ROW, ROW])).splitlines()
    assert [orjson.loads(line)["url"] for line in lines] == [ROW["url"]] * 2


def test_csv_has_a_column_per_selector_and_neutralises_formulas() -> None:
    columns = exports.csv_columns(["metadata", "selectors", "links"], ["title", "price", "sku"])
    writer = exports.CsvWriter(columns)
    text = (writer.header() + writer.rows([ROW])).decode()
    header, row = list(csv.reader(io.StringIO(text)))
    cells = dict(zip(header, row, strict=True))
    assert cells["title"] == '\'=HYPERLINK("http://evil")'
    assert cells["price"] == "'-12.50"
    assert cells["sku"] == "A1"
    assert cells["metadata.title"] == "Page"
    assert orjson.loads(cells["links"]) == ["https://example.com/a"]
    assert cells["ok"] == "true"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised(start: str) -> None:
    assert exports.safe_cell(f"{start}1+1").startswith("'")


def test_error_cells_say_what_went_wrong() -> None:
    failed = {
        **ROW,
        "ok": False,
        "status": None,
        "data": None,
        "error": {"type": "RobotsDisallowed", "message": "no"},
    }
    writer = exports.CsvWriter(exports.csv_columns([], []))
    _, row = list(csv.reader(io.StringIO((writer.header() + writer.rows([failed])).decode())))
    assert "RobotsDisallowed: no" in row
