"""Cleaning a record's values so that the same fact is always written the same way.

Every string, at any depth, is put in Unicode NFC, stripped of control characters
(PostgreSQL cannot store NUL) and has its runs of whitespace collapsed to one space.
Fields of a known type get more:

- ``url``: absolute (resolved against the page the record came from, or given
  ``https://`` when it has no scheme), scheme and host lower-cased, default port dropped;
- ``email``: ``mailto:`` removed, lower-cased;
- ``phone``: E.164 (``+4930123456``), read with the dataset's default region; a number
  libphonenumber cannot make sense of is kept as text;
- ``price``: ``{"amount": "1234.50", "currency": "EUR"}`` (see ``prices``);
- ``text``: the common treatment only; ``raw``: left exactly as it came.

A field's type is what the dataset's ``types`` say, else it is guessed from the name
(``website`` and ``*_url`` are URLs, ``*email*`` e-mails, ``*phone*``, ``tel``, ``fax``
phone numbers, ``*price*`` and ``cost`` prices). A list under such a name (``emails``,
``phones``) has each item treated alike. Top-level fields left empty (``None``, ``""``)
are dropped, so that "no value" has one spelling and does not count as a change.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal

import phonenumbers

from scrapeyard.datasets import prices

FieldType = Literal["text", "url", "email", "phone", "price", "raw"]
FIELD_TYPES: tuple[FieldType, ...] = ("text", "url", "email", "phone", "price", "raw")

_WHITESPACE = re.compile(r"\s+")
# Most values need nothing done: one search tells (no control character, no whitespace
# other than single spaces, none at either end).
_UNTIDY = re.compile(r"[^\S ]|  |^ | $|[\x00-\x1f\x7f-\x9f]")
# C0 and C1 controls except the whitespace ones, which the collapse below turns to spaces.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_WORDS = re.compile(r"[^a-z0-9]+")
_URL_NAMES = frozenset({"url", "urls", "website", "websites", "homepage", "link", "href", "site"})
_PHONE_WORDS = frozenset({"phone", "phones", "tel", "telephone", "mobile", "fax", "cell"})
_PRICE_WORDS = frozenset({"price", "prices", "cost"})


@functools.lru_cache(maxsize=4096)
def infer_type(name: str) -> FieldType:
    """The type a field's name suggests (``text`` when it suggests none)."""
    lowered = name.lower()
    words = [word for word in _WORDS.split(lowered) if word]
    if lowered in _URL_NAMES or (words and words[-1] in ("url", "urls")):
        return "url"
    if "email" in lowered or "e_mail" in lowered or "e-mail" in lowered or words == ["mail"]:
        return "email"
    if any(word in _PHONE_WORDS or word.endswith("phone") for word in words):
        return "phone"
    if any(word in _PRICE_WORDS for word in words):
        return "price"
    return "text"


def text(value: str) -> str:
    """NFC, no control characters, whitespace collapsed, stripped."""
    if value.isascii() and not _UNTIDY.search(value):
        return value
    if not value.isascii():
        # A lone surrogate (from JSON such as "\\ud800") cannot be stored as UTF-8.
        value = value.encode("utf-8", "replace").decode("utf-8")
        value = unicodedata.normalize("NFC", value)
    value = _CONTROLS.sub("", value)
    return _WHITESPACE.sub(" ", value).strip()


def url(value: str, base: str | None = None) -> str:
    """``value`` as an absolute URL (see the module docstring)."""
    value = text(value)
    if not value:
        return value
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme:
        if base:
            parts = urllib.parse.urlsplit(urllib.parse.urljoin(base, value))
        elif not value.startswith("/"):
            parts = urllib.parse.urlsplit("https://" + value.removeprefix("//"))
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return urllib.parse.urlunsplit(parts)
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else (f"{host}:{port}")
    )
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def email(value: str) -> str:
    """``value`` without ``mailto:`` (or its query), lower-cased."""
    value = text(value)
    if value[:7].lower() == "mailto:":
        value = urllib.parse.unquote(value[7:].partition("?")[0])
    return value.strip().lower()


def phone(value: str, region: str | None = None) -> str:
    """``value`` in E.164 when libphonenumber can read it (with ``region`` for numbers
    written without a country code); otherwise the cleaned text."""
    cleaned = text(value)
    candidate = cleaned
    if candidate[:4].lower() == "tel:":
        candidate = urllib.parse.unquote(candidate[4:].partition(";")[0])
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return cleaned
    if not phonenumbers.is_possible_number(number):
        return cleaned
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def deep_text(value: Any) -> Any:
    """``text`` applied to every string (and key) inside ``value``."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {text(str(key)): deep_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [deep_text(item) for item in value]
    return value


def value_of_type(
    value: Any, kind: FieldType, *, base: str | None = None, region: str | None = None
) -> Any:
    """One field's value normalised as ``kind`` (lists item by item)."""
    if kind == "raw":
        return value
    if isinstance(value, list):
        return [value_of_type(item, kind, base=base, region=region) for item in value]
    if kind == "price":
        if isinstance(value, Mapping):
            return deep_text(value)
        parsed = prices.parse(text(value) if isinstance(value, str) else value)
        return dict(parsed) if parsed is not None else deep_text(value)
    if not isinstance(value, str):
        return deep_text(value)
    if kind == "url":
        return url(value, base)
    if kind == "email":
        return email(value)
    if kind == "phone":
        return phone(value, region)
    return text(value)


@functools.lru_cache(maxsize=4096)
def _field_name(name: object) -> str:
    return text(str(name))


def record(
    data: Mapping[str, Any],
    *,
    types: Mapping[str, FieldType] | None = None,
    base: str | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """A normalised copy of ``data`` (see the module docstring)."""
    types = types or {}
    out: dict[str, Any] = {}
    for raw_name, value in data.items():
        name = _field_name(raw_name)
        if not name:
            continue
        kind = types.get(name) or infer_type(name)
        cleaned = value_of_type(value, kind, base=base, region=region)
        if cleaned is None or cleaned == "" or cleaned == [] or cleaned == {}:
            continue
        out[name] = cleaned
    return out
