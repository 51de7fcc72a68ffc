"""The ``jsonld`` format: the JSON-LD objects embedded in a page.

Every ``<script type="application/ld+json">`` is parsed; a block holding a JSON array
contributes each of its objects, so the result is a flat list of objects in document
order. ``@graph`` objects are kept as they are. Malformed blocks are common, so parsing
is forgiving: HTML comment and CDATA wrappers and a trailing ``;`` are dropped, raw
control characters inside strings are accepted, and a block that still does not parse
is skipped. Whatever is returned can be serialised by orjson: integers too large for
64 bits become strings, and ``NaN`` and ``Infinity`` become ``None``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document

_MIME_TYPE = "application/ld+json"
_WRAPPERS = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?:-->|//\s*\]\]>|\]\]>|;)\s*$")
_INT64 = range(-(2**63), 2**64)


def extract(page: document.Document) -> list[dict[str, Any]]:
    """The JSON-LD objects of ``page`` in document order; never raises."""
    found: list[dict[str, Any]] = []
    for node in page.tree.css("script[type]"):
        kind = (node.attrs.get("type") or "").partition(";")[0].strip().lower()
        if kind != _MIME_TYPE:
            continue
        value = parse(node.text())
        items = value if isinstance(value, list) else [value]
        found.extend(item for item in items if isinstance(item, dict))
    return found


def parse(raw: str) -> Any:
    """One JSON-LD block parsed, or None when it cannot be (see the module docstring)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    cleaned = _WRAPPERS.sub("", raw)
    try:
        value = json.loads(
            cleaned, strict=False, parse_int=_parse_int, parse_constant=_parse_constant
        )
        orjson.dumps(value)  # lone surrogates from "\ud800" escapes cannot be stored
    except (ValueError, RecursionError, TypeError):
        return None
    return value


def _parse_int(digits: str) -> int | str:
    number = int(digits)
    return number if number in _INT64 else digits


def _parse_constant(name: str) -> None:
    return None
