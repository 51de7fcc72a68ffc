"""Guessing what a file is: its format, its text encoding, its CSV dialect.

Each guess looks at the first ``SAMPLE_BYTES`` of the file only, and each can be
overridden by the caller (``--encoding``, ``--delimiter``, ``format``):

- *encoding*: a byte-order mark decides (UTF-8, UTF-16, UTF-32); else UTF-8 if the
  sample is valid UTF-8; else Windows-1252 when the sample uses its printable
  characters in 0x80-0x9F (curly quotes, the euro sign), else Latin-1. A later byte that
  does not fit the guess fails the import with its line number, and the fix is to say
  which encoding the file is in;
- *format*: a first character ``[`` is a JSON array, ``{`` JSON lines, anything else
  CSV (or the file name's extension, when the file is empty);
- *CSV dialect*: ``csv.Sniffer`` over the first lines chooses the delimiter among
  ``, ; TAB |``, comma when it cannot tell; fields are quoted with ``"``.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from typing import Literal

from scrapeyard import errors

Format = Literal["csv", "jsonl", "json"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "json")
SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


def check_encoding(name: str) -> str:
    """``name`` if Python knows the encoding; ``InvalidInput`` otherwise."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise errors.InvalidInput("encoding", f"unknown encoding {name!r}") from None


def encoding(sample: bytes) -> str:
    """The text encoding ``sample`` (the file's first bytes) is most likely in."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if any(0x80 <= byte <= 0x9F for byte in sample):
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return "latin-1"


def is_ascii_compatible(name: str) -> bool:
    """Whether ``name`` encodes a newline as the single byte 0x0A (lines can be split
    before decoding)."""
    return "\n".encode(name) == b"\n" and not name.startswith(("utf-16", "utf-32"))


def file_format(sample: str, filename: str = "") -> Format:
    """The format of a file that starts with ``sample`` (decoded)."""
    first = sample.lstrip("\ufeff \t\r\n")[:1]
    if first == "[":
        return "json"
    if first == "{":
        return "jsonl"
    if not first:
        for extension, found in _EXTENSIONS.items():
            if filename.lower().endswith(extension):
                return found
    return "csv"


@dataclass(frozen=True)
class Dialect:
    """The CSV dialect the import reads with (fields are quoted with ``"``)."""

    delimiter: str = ","


def dialect(sample: str, delimiter: str | None = None) -> Dialect:
    """The CSV dialect of a file starting with ``sample``; ``delimiter`` when given."""
    if delimiter is not None:
        if delimiter == "\\t":
            delimiter = "\t"
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise errors.InvalidInput("delimiter", "must be one character, such as , ; | or \\t")
        return Dialect(delimiter)
    # A partial last line would mislead the sniffer; 50 lines are plenty.
    lines = sample.splitlines(keepends=True)
    text = "".join(lines[:50] if len(lines) > 1 else lines)
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters=DELIMITERS)
    except csv.Error:
        return Dialect()
    return Dialect(sniffed.delimiter)
