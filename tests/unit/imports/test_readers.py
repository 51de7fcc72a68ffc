"""Reading files to import: detection, streaming, and malformed files named by line."""

from __future__ import annotations

import io
import json
import tracemalloc
from typing import Any

import pytest

from scrapeyard import errors
from scrapeyard.imports import jsonarray, readers


def _read(data: bytes, **options: Any) -> tuple[readers.Detected, list[tuple[int, dict[str, Any]]]]:
    binary = io.BytesIO(data)
    detected = readers.detect_file(binary, readers.Options(**options))
    return detected, list(readers.rows(binary, detected))


def _problem(data: bytes, **options: Any) -> errors.MalformedFile:
    with pytest.raises(errors.MalformedFile) as caught:
        _read(data, **options)
    return caught.value


def test_a_latin1_csv_with_semicolons_is_detected() -> None:
    text = 'name;price;city\n"Müller; Söhne";12,99 €;Köln\nCafé;3,50;Zürich\n'
    detected, rows = _read(text.replace("€", "EUR").encode("latin-1"))
    assert (detected.format, detected.encoding, detected.delimiter) == ("csv", "latin-1", ";")
    assert rows == [
        (2, {"name": "Müller; Söhne", "price": "12,99 EUR", "city": "Köln"}),
        (3, {"name": "Café", "price": "3,50", "city": "Zürich"}),
    ]


def test_windows_1252_and_boms_are_recognised() -> None:
    detected, rows = _read("a,b\n“quoted”,€5\n".encode("cp1252"))
    assert detected.encoding == "cp1252"
    assert rows == [(2, {"a": "“quoted”", "b": "€5"})]
    detected, rows = _read("\ufeffa\tb\n1\t2\n".encode())
    assert (detected.encoding, detected.delimiter) == ("utf-8-sig", "\t")
    assert rows == [(2, {"a": "1", "b": "2"})]
    detected, rows = _read("a,b\nü,2\n".encode("utf-16"))
    assert detected.encoding == "utf-16" and rows == [(2, {"a": "ü", "b": "2"})]


def test_given_options_win_over_detection() -> None:
    detected, rows = _read(b"a|b\n1|2\n", delimiter="|", encoding="ascii", format="csv")
    assert (detected.delimiter, rows) == ("|", [(2, {"a": "1", "b": "2"})])


def test_csv_records_keep_their_first_line_and_leave_empty_cells_out() -> None:
    _, rows = _read(b'id,note,tag\n1,"two\nlines",\n\n2,,x\n')
    assert rows == [(2, {"id": "1", "note": "two\nlines"}), (5, {"id": "2", "tag": "x"})]


@pytest.mark.parametrize(
    ("data", "line", "problem"),
    [
        (b"a,b\n1,2\n3\n", 3, "expected 2 fields, found 1"),
        (b"a,b\n1,2\n3,4,5\n", 3, "expected 2 fields, found 3"),
        (b'a,b\n1,"x"y\n', 2, "not valid CSV"),
        (b"a,,c\n1,2,3\n", 1, "column 2 has no name"),
        (b"a,a\n1,2\n", 1, "named twice"),
        (b"a,b\n1,2\n3,\xff\n", 3, "byte 0xff at column 3 is not valid utf-8"),
    ],
)
def test_malformed_csv_names_the_line(data: bytes, line: int, problem: str) -> None:
    found = _problem(data, encoding="utf-8") if b"\xff" in data else _problem(data)
    assert found.line == line
    assert problem in found.problem


def test_json_lines_skip_blank_lines_and_name_a_bad_one() -> None:
    detected, rows = _read(b'{"a": 1}\n\n{"a": "\\u00e9"}\r\n')
    assert detected.format == "jsonl"
    assert rows == [(1, {"a": 1}), (3, {"a": "é"})]
    found = _problem(b'{"a": 1}\n{"a": 2}\n{"a": oops}\n')
    assert found.line == 3 and "not valid JSON" in found.problem and "column 7" in found.problem
    assert _problem(b'{"a": 1}\n[1, 2]\n').problem == "each line must be a JSON object"


def test_a_json_array_is_read_element_by_element() -> None:
    data = json.dumps([{"n": i, "s": "x" * i} for i in range(300)], indent=1).encode()
    detected, rows = _read(data)
    assert detected.format == "json"
    assert [row for _, row in rows] == [{"n": i, "s": "x" * i} for i in range(300)]
    assert rows[1][0] == 6  # "[", then 4 lines per element with indent=1
    assert _read(b"  [ ]  ")[1] == []


@pytest.mark.parametrize(
    ("data", "line", "problem"),
    [
        (b'[{"a": 1},\n {"a": tru}\n]', 2, "not valid JSON"),
        (b'[{"a": 1},\n 5]', 2, "must be a JSON object"),
        (b'[{"a": 1}\n {"a": 2}]', 2, "expected ',' or ']'"),
        (b'[{"a": 1},\n{"a": 2}', 2, "ends before the array is closed"),
        (b'[{"a": 1}]\n[]', 2, "after the closing"),
        (b'{"a": 1}', 1, "must start with '['"),
    ],
)
def test_a_malformed_json_array_names_the_line(data: bytes, line: int, problem: str) -> None:
    found = _problem(data, format="json")
    assert (found.line, problem in found.problem) == (line, True), found


def test_an_element_larger_than_a_read_is_still_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonarray, "CHUNK_BYTES", 16)
    big = {"text": "é" * 5000, "list": list(range(500)), "flag": False, "n": -12.5e3}
    data = json.dumps([big, {"x": None}, big], ensure_ascii=False).encode()
    _, rows = _read(data)
    assert [row for _, row in rows] == [big, {"x": None}, big]


def test_reading_a_large_array_keeps_memory_flat() -> None:
    element = json.dumps({"name": "x" * 200, "n": 1}).encode()
    data = b"[" + b",\n".join([element] * 20_000) + b"]"  # about 4.3 MB
    binary = io.BytesIO(data)
    tracemalloc.start()
    try:
        count = sum(1 for _ in jsonarray.rows(binary, "utf-8"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 1_000_000, f"peak {peak:,} bytes while reading a {len(data):,}-byte array"
