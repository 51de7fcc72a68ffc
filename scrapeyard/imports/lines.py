"""A binary file as numbered lines of text, decoded one line at a time.

Decoding line by line (rather than in 8 KiB chunks) lets a byte that does not fit the
encoding be reported with the line it is on. Encodings that do not write a newline as
the byte 0x0A (UTF-16, UTF-32) are decoded as a stream instead; their lines are numbered
just the same. A line longer than ``MAX_LINE_BYTES`` fails the import rather than
filling the memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from scrapeyard import errors
from scrapeyard.imports import detect

MAX_LINE_BYTES = 16 * 1024 * 1024


def _too_long(number: int) -> errors.MalformedFile:
    return errors.MalformedFile(
        number, f"the line is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB"
    )


def _bad_byte(number: int, encoding: str, exc: UnicodeDecodeError) -> errors.MalformedFile:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return errors.MalformedFile(
        number,
        f"byte 0x{byte} at column {exc.start + 1} is not valid {encoding}; "
        "give the file's encoding (e.g. --encoding cp1252)",
    )


def raw_lines(binary: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """``(number, line)`` with the line's ending, in bytes; numbers start at 1."""
    number = 0
    while True:
        line = binary.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise _too_long(number)
        yield number, line


def text_lines(binary: BinaryIO, encoding: str) -> Iterator[tuple[int, str]]:
    """``(number, line)`` decoded from ``encoding``, with the line's ending kept."""
    if not detect.is_ascii_compatible(encoding):
        stream = io.TextIOWrapper(binary, encoding=encoding, newline="")
        number = 0
        try:
            for number, line in enumerate(stream, 1):  # noqa: B007 - used after the loop
                yield number, line
        except UnicodeDecodeError as exc:
            raise _bad_byte(number + 1, encoding, exc) from None
        finally:
            stream.detach()
        return
    first = True
    for number, raw in raw_lines(binary):
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _bad_byte(number, encoding, exc) from None
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield number, line
