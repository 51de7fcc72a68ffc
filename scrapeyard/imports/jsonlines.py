"""JSON lines: one JSON object per line; blank lines are skipped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from scrapeyard import errors
from scrapeyard.imports import lines

# orjson ends its messages with the position in what it parsed: here, the line.
_POSITION = re.compile(r": line \d+ column (\d+) \(char \d+\)$")


def _record(number: int, line: bytes | str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        problem = _POSITION.sub(r" at column \1", str(exc))
        raise errors.MalformedFile(number, f"not valid JSON: {problem}") from None
    if not isinstance(value, dict):
        raise errors.MalformedFile(number, "each line must be a JSON object")
    return value


def rows(binary: BinaryIO, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for every non-blank line of a JSON lines file."""
    if encoding in ("utf-8", "utf-8-sig", "ascii"):
        # orjson reads UTF-8 bytes directly (and refuses invalid UTF-8 itself).
        for number, raw in lines.raw_lines(binary):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if raw.strip():
                yield number, _record(number, raw)
        return
    for number, line in lines.text_lines(binary, encoding):
        if line.strip():
            yield number, _record(number, line)
