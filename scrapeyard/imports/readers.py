"""Opening a file to import: detect what it is, then stream its records.

with open(path, "rb") as file:
    for line, record in readers.rows(file, readers.Options()):
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from scrapeyard import errors
from scrapeyard.imports import csvrows, detect, jsonarray, jsonlines


@dataclass(frozen=True)
class Options:
    """How to read a file; what is left ``None`` is detected."""

    format: detect.Format | None = None
    encoding: str | None = None
    delimiter: str | None = None
    filename: str = ""

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in detect.FORMATS:
            raise errors.InvalidInput("format", f"must be one of {', '.join(detect.FORMATS)}")
        if self.encoding is not None:
            detect.check_encoding(self.encoding)
        if self.delimiter is not None:
            detect.dialect("", self.delimiter)


@dataclass(frozen=True)
class Detected:
    """What a file turned out to be."""

    format: detect.Format
    encoding: str
    delimiter: str | None


def detect_file(binary: BinaryIO, options: Options) -> Detected:
    """Look at the start of ``binary`` (then rewind it) and settle how to read it."""
    sample = binary.read(detect.SAMPLE_BYTES)
    binary.seek(0)
    encoding = options.encoding or detect.encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    found = options.format or detect.file_format(text, options.filename)
    delimiter = detect.dialect(text, options.delimiter).delimiter if found == "csv" else None
    return Detected(found, encoding, delimiter)


def rows(binary: BinaryIO, detected: Detected) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` pairs of the file, read as ``detected`` says."""
    if detected.format == "csv":
        assert detected.delimiter is not None
        return csvrows.rows(binary, detected.encoding, detect.Dialect(detected.delimiter))
    if detected.format == "jsonl":
        return jsonlines.rows(binary, detected.encoding)
    return jsonarray.rows(binary, detected.encoding)
