"""A JSON array of objects, read one element at a time.

The text is decoded incrementally and kept in a buffer that holds little more than the
element being read: each element is parsed with ``json.JSONDecoder.raw_decode`` (the C
scanner) as soon as it is complete, then dropped from the buffer. When an element is
not complete yet the buffer is refilled (reads double in size, so a large element costs
linear time) up to ``MAX_ELEMENT_CHARS``; a parse error that more text could not fix is
reported at once, with its line.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from scrapeyard import errors

CHUNK_BYTES = 64 * 1024
MAX_ELEMENT_CHARS = 64 * 1024 * 1024
# An error this close to the end of the buffer may only mean "the element goes on":
# a literal cut short ("tr", "-Infin") fails where it starts.
_TAIL = 16
_WHITESPACE = " \t\r\n"


class _Buffer:
    """Decoded text with a read position and the line number of the position."""

    def __init__(self, binary: BinaryIO, encoding: str) -> None:
        self._binary = binary
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._encoding = encoding
        self.text = ""
        self.pos = 0
        self.line = 1  # the line of self.pos
        self.eof = False

    def fill(self, size: int = CHUNK_BYTES) -> bool:
        """Read up to ``size`` more bytes; False at the end of the file."""
        if self.eof:
            return False
        data = self._binary.read(size)
        try:
            decoded = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise errors.MalformedFile(
                self.line + self.text.count("\n", self.pos),
                f"not valid {self._encoding}; give the file's encoding",
            ) from exc
        if self.pos:
            self.text = self.text[self.pos :]
            self.pos = 0
        self.text += decoded
        if not data:
            self.eof = True
        return bool(data) or bool(decoded)

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.pos, to)
        self.pos = to

    def skip_whitespace(self) -> str:
        """The next character that is not whitespace (``""`` at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                if self.text[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def fail(self, problem: str, at: int | None = None) -> errors.MalformedFile:
        line = self.line if at is None else self.line + self.text.count("\n", self.pos, at)
        return errors.MalformedFile(line, problem)


def _element(buffer: _Buffer, decoder: json.JSONDecoder) -> Any:
    size = CHUNK_BYTES
    while True:
        try:
            value, end = decoder.raw_decode(buffer.text, buffer.pos)
        except json.JSONDecodeError as exc:
            near_end = exc.pos >= len(buffer.text) - _TAIL or exc.msg.startswith("Unterminated")
            if near_end and not buffer.eof and len(buffer.text) - buffer.pos < MAX_ELEMENT_CHARS:
                buffer.fill(size)
                size = min(size * 2, MAX_ELEMENT_CHARS)
                continue
            raise buffer.fail(f"not valid JSON: {exc.msg}", exc.pos) from None
        buffer.advance(end)
        return value


def rows(binary: BinaryIO, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` for every element of a JSON array of objects."""
    buffer = _Buffer(binary, encoding)
    decoder = json.JSONDecoder()
    first = buffer.skip_whitespace()
    if first == "\ufeff":
        buffer.advance(buffer.pos + 1)
        first = buffer.skip_whitespace()
    if first != "[":
        raise buffer.fail("a JSON array must start with '['")
    buffer.advance(buffer.pos + 1)
    expect_comma = False
    while True:
        char = buffer.skip_whitespace()
        if char == "]":
            buffer.advance(buffer.pos + 1)
            break
        if not char:
            raise buffer.fail("the file ends before the array is closed with ']'")
        if expect_comma:
            if char != ",":
                raise buffer.fail(f"expected ',' or ']' between elements, found {char!r}")
            buffer.advance(buffer.pos + 1)
            char = buffer.skip_whitespace()
        if char != "{":
            raise buffer.fail("each element of the array must be a JSON object")
        line = buffer.line
        yield line, _element(buffer, decoder)
        expect_comma = True
    if buffer.skip_whitespace():
        raise buffer.fail("unexpected text after the closing ']'")
