"""Turn a response body into text the way a browser would, without ever failing.

The encoding comes from, in order: a byte-order mark, the ``charset`` of the HTTP
``Content-Type`` header, a ``<meta charset>`` or ``<meta http-equiv>`` declaration (or an
XML declaration) near the start of the body, and finally a guess: UTF-8 when the bytes
are valid UTF-8, windows-1252 otherwise (the fallback browsers use for undeclared
Western pages). A BOM wins over the header, as it does in browsers (WHATWG "decode").
Bytes that are invalid in the chosen encoding become U+FFFD.

>>> decode_html(b"<p>caf\\xe9</p>", "text/html; charset=iso-8859-1")
Decoded(text='<p>café</p>', encoding='cp1252')
"""

from __future__ import annotations

from typing import NamedTuple

import w3lib.encoding


class Decoded(NamedTuple):
    """A decoded body and the Python name of the encoding that decoded it."""

    text: str
    encoding: str


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML response ``body`` using its ``Content-Type`` header, if any.

    Never raises: unknown charset names are ignored, undecodable bytes are replaced.
    """
    # w3lib does the BOM, header and <meta> steps; the guess is ours.
    encoding, text = w3lib.encoding.html_to_unicode(
        content_type, body, auto_detect_fun=_guess_encoding
    )
    return Decoded(text, encoding)


def _guess_encoding(body: bytes) -> str:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"
