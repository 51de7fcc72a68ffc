"""Reading bodies within a limit: bounded bodies."""

from __future__ import annotations

import gzip
import zlib

import pytest

from scrapeyard import errors
from scrapeyard.crawl import bodies


def feed_in_pieces(decoder: bodies.Decoder, data: bytes, size: int = 7) -> bytes:
    out = b"".join(decoder.feed(data[i : i + size]) for i in range(0, len(data), size))
    return out + decoder.finish()


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        ("gzip", gzip.compress(b"hello " * 1000)),
        ("x-gzip", gzip.compress(b"hello " * 1000)),
        ("deflate", zlib.compress(b"hello " * 1000)),
        ("deflate", zlib.compress(b"hello " * 1000)[2:-4]),  # raw deflate, as some send
    ],
)
def test_decodes_in_pieces(coding: str, data: bytes) -> None:
    decoder = bodies.Decoder(coding, limit=1 << 20)

    assert feed_in_pieces(decoder, data) == b"hello " * 1000
    assert not decoder.overflowed


def test_concatenated_gzip_members_and_trailing_junk() -> None:
    data = gzip.compress(b"a" * 100) + gzip.compress(b"b" * 100) + b"\0\0junk"

    assert feed_in_pieces(bodies.Decoder("gzip", 1000), data) == b"a" * 100 + b"b" * 100


def test_never_produces_more_than_the_limit() -> None:
    decoder = bodies.Decoder("gzip", limit=1000)

    out = decoder.feed(gzip.compress(bytes(50_000_000)))

    assert len(out) == 1000 and decoder.overflowed
    assert decoder.feed(b"more") == b"" and decoder.finish() == b""


def test_corrupt_data_and_unknown_codings() -> None:
    with pytest.raises(errors.FetchError, match="corrupt"):
        bodies.Decoder("gzip", 1000).feed(b"\x1f\x8bnot gzip at all")
    with pytest.raises(errors.FetchError, match="unsupported content-encoding 'br'"):
        bodies.Decoder("br", 1000)


def test_gunzip_sniffs_the_magic_bytes() -> None:
    assert bodies.gunzip(b"plain", 100) == (b"plain", False)
    assert bodies.gunzip(gzip.compress(b"zipped"), 100) == (b"zipped", False)
    assert bodies.gunzip(gzip.compress(bytes(1000)), 100) == (bytes(100), True)
