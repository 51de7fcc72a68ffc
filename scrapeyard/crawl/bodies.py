"""Response bodies within a size limit, however they are compressed or streamed.

The fetcher has aiohttp hand over bodies raw (``auto_decompress=False``) and reads them
here, counting bytes as they come off the wire and again once decoded. Decoding is done
with bounded zlib calls: each passes ``max_length`` set to what is left of the budget
plus one byte, so no call ever produces more than the budget, however small and
compressed the input. A gzip bomb therefore costs at most ``limit`` bytes of memory and
the time to inflate them, and an endless body stops at ``limit`` too. Whether running
over is an error (``BodyTooLarge``) or a reason to keep the first ``limit`` bytes is
the caller's decision.

Only codings zlib handles are offered to servers: ``gzip`` (``x-gzip``) and ``deflate``
(zlib-wrapped or raw, since servers send both). Brotli and zstd are not advertised in
``Accept-Encoding``; a server that sends them anyway gets a ``FetchError``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import aiohttp

from scrapeyard import errors

ACCEPT_ENCODING = "gzip, deflate"
GZIP_MAGIC = b"\x1f\x8b"


class Decoder:
    """Decompresses one body incrementally, never producing more than ``limit`` bytes.

    >>> decoder = Decoder("gzip", limit=1000)
    >>> data = decoder.feed(zlib.compress(b"x" * 5000, wbits=31)) + decoder.finish()
    >>> len(data), decoder.overflowed
    (1000, True)
    """

    def __init__(self, coding: str, limit: int) -> None:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise errors.FetchError(f"unsupported content-encoding {coding!r}")
        self.coding = coding
        self.limit = limit
        self.produced = 0
        self.overflowed = False
        self._wbits = 16 + zlib.MAX_WBITS if coding != "deflate" else 0
        self._stream: zlib._Decompress | None = None
        self._ended = False

    def _start(self, first: bytes) -> zlib._Decompress:
        wbits = self._wbits
        if not wbits:
            # RFC 9110 deflate is zlib-wrapped, but many servers send raw deflate.
            wbits = zlib.MAX_WBITS if first[0] & 0x0F == 8 else -zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        """The decompressed bytes ``data`` yields, cut at the limit."""
        if self.overflowed or not data:
            return b""
        pieces: list[bytes] = []
        while data:
            if self._stream is None:
                if self._ended and (self._wbits == 0 or not data.startswith(GZIP_MAGIC)):
                    # After the end of the stream: a further gzip member, or trailing
                    # junk that browsers ignore, and so do we.
                    break
                self._stream = self._start(data)
            room = self.limit - self.produced
            try:
                piece = self._stream.decompress(data, room + 1)
            except zlib.error as exc:
                raise errors.FetchError(f"the {self.coding} body is corrupt ({exc})") from exc
            if len(piece) > room:
                self._overflow(pieces, piece[:room])
                break
            self.produced += len(piece)
            pieces.append(piece)
            if self._stream.eof:
                data = self._stream.unused_data
                self._stream = None
                self._ended = True
            else:
                data = self._stream.unconsumed_tail
        return b"".join(pieces)

    def _overflow(self, pieces: list[bytes], last: bytes) -> None:
        pieces.append(last)
        self.produced += len(last)
        self.overflowed = True
        self._stream = None

    def finish(self) -> bytes:
        """Whatever zlib still holds once the input has ended (tolerating a truncated
        stream, as browsers do)."""
        if self._stream is None or self.overflowed:
            return b""
        room = self.limit - self.produced
        try:
            piece = self._stream.flush(room + 1)
        except zlib.error as exc:
            raise errors.FetchError(f"the {self.coding} body is corrupt ({exc})") from exc
        pieces: list[bytes] = []
        if len(piece) > room:
            self._overflow(pieces, piece[:room])
        else:
            self.produced += len(piece)
            pieces.append(piece)
        return b"".join(pieces)


def gunzip(data: bytes, limit: int) -> tuple[bytes, bool]:
    """``data`` decompressed if it starts with the gzip magic bytes, else as it is;
    and whether the limit cut it short. For files served gzipped without a
    ``Content-Encoding`` (``sitemap.xml.gz``)."""
    if not data.startswith(GZIP_MAGIC):
        return data[:limit], len(data) > limit
    decoder = Decoder("gzip", limit)
    body = decoder.feed(data) + decoder.finish()
    return body, decoder.overflowed


@dataclass(frozen=True)
class Body:
    """A body as read: its (decoded) bytes, and how it went."""

    data: bytes
    wire_bytes: int
    """Bytes read off the wire (compressed size, if it was compressed)."""
    overflowed: bool
    """More was coming than ``limit``: ``data`` holds only the first ``limit`` bytes."""
    decoded: bool
    """It came compressed (a ``Content-Encoding``) and was decompressed."""


async def read(response: aiohttp.ClientResponse, limit: int) -> Body:
    """Read ``response``'s body, decoding its ``Content-Encoding``, up to ``limit`` bytes.

    Stops reading as soon as the body, on the wire or decoded, would pass ``limit``.
    Raises ``FetchError`` for an encoding that cannot be decoded; aiohttp's errors
    (a broken connection, a read timeout) are left to the caller, who knows the URL.
    """
    coding = response.headers.get("Content-Encoding", "").strip().lower()
    decoder = Decoder(coding, limit) if coding and coding != "identity" else None
    length = response.content_length
    if length is not None and length <= limit:
        raw = await response.read()
        if decoder is None:
            return Body(raw, len(raw), False, False)
        data = decoder.feed(raw) + decoder.finish()
        return Body(data, len(raw), decoder.overflowed, True)
    return await _stream(response, decoder, limit)


async def _stream(response: aiohttp.ClientResponse, decoder: Decoder | None, limit: int) -> Body:
    pieces: list[bytes] = []
    read = size = 0
    decoded = decoder is not None
    async for chunk in response.content.iter_any():
        read += len(chunk)
        if decoder is not None:
            chunk = decoder.feed(chunk)
            if decoder.overflowed:
                pieces.append(chunk)
                return Body(b"".join(pieces), read, True, decoded)
        elif size + len(chunk) > limit:
            pieces.append(chunk[: limit - size])
            return Body(b"".join(pieces), read, True, decoded)
        size += len(chunk)
        pieces.append(chunk)
        if read > limit:
            # Compressed bytes count too: a body that does not shrink stops here.
            return Body(b"".join(pieces), read, True, decoded)
    overflowed = False
    if decoder is not None:
        pieces.append(decoder.finish())
        overflowed = decoder.overflowed
    return Body(b"".join(pieces), read, overflowed, decoded)
