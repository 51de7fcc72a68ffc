"""CSV rows as records: the first row names the fields, each later row is a record.

Rows are read with ``strict`` quoting, so a stray quote is an error, not a silently
merged field. A row with more or fewer fields than the header fails the import with its
line number (a quoted field may span lines; a record is numbered by its first line).
Blank lines are skipped; empty cells are left out of the record.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from scrapeyard import errors
from scrapeyard.imports import detect, lines

csv.field_size_limit(min(sys.maxsize, lines.MAX_LINE_BYTES))


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip() for cell in cells]
    if not any(names):
        raise errors.MalformedFile(1, "the first line must name the fields")
    for index, name in enumerate(names):
        if not name:
            raise errors.MalformedFile(1, f"column {index + 1} has no name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise errors.MalformedFile(1, f"the field {name!r} is named twice")
        seen.add(name)
    return names


def rows(
    binary: BinaryIO, encoding: str, dialect: detect.Dialect
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for every data row of a CSV file."""
    numbered = lines.text_lines(binary, encoding)
    current = 0

    def text() -> Iterator[str]:
        nonlocal current
        for number, line in numbered:
            current = number
            yield line

    reader = csv.reader(text(), delimiter=dialect.delimiter, quotechar='"', strict=True)
    header: list[str] | None = None
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, current
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if header is None:
                header = _header(cells)
                continue
            if len(cells) != len(header):
                raise errors.MalformedFile(
                    start, f"expected {len(header)} fields, found {len(cells)}"
                )
            yield start, {name: cell for name, cell in zip(header, cells, strict=True) if cell}
    except csv.Error as exc:
        raise errors.MalformedFile(current or 1, f"not valid CSV: {exc}") from None
