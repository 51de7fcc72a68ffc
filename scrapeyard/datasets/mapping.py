"""From a page record of a scrape or crawl to the fields of a dataset record.

With a ``fields`` mapping, each dataset field takes the value at a path in the page
record as users see it (``scrapeyard.exports.record``): ``url``, ``metadata.title``,
``selectors.price``, ``contacts.emails.0`` (a number indexes a list). A path that leads
nowhere leaves the field out.

Without one, a record holds what identifies and describes the page and nothing that
changes on every fetch (timings, fetch time, raw HTML, links): ``url``, the selector
fields at the top level, ``title``, ``description``, ``language`` and ``canonical``
from the metadata, ``emails``, ``phones`` and ``socials`` from the contacts, and
``text``, ``markdown`` and ``jsonld`` when the job asked for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_METADATA = ("title", "description", "language", "canonical")
_CONTACTS = ("emails", "phones", "socials")
_CONTENT = ("text", "markdown", "jsonld")


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at the dotted ``path`` in ``record``, or None."""
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.lstrip("-").isdigit():
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value


def from_page(record: Mapping[str, Any], fields: Mapping[str, str] | None) -> dict[str, Any]:
    """The dataset fields of one page record (see the module docstring)."""
    if fields is not None:
        return {name: lookup(record, path) for name, path in fields.items()}
    data: dict[str, Any] = {"url": record.get("url")}
    selectors = record.get("selectors")
    if isinstance(selectors, Mapping):
        data.update(selectors)
    metadata = record.get("metadata")
    if isinstance(metadata, Mapping):
        data.update({name: metadata.get(name) for name in _METADATA})
    contacts = record.get("contacts")
    if isinstance(contacts, Mapping):
        data.update({name: contacts.get(name) for name in _CONTACTS})
    data.update({name: record[name] for name in _CONTENT if name in record})
    return data
