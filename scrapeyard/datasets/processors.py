"""Record processors: named Python callables that enrich (or reject) dataset records.

A dataset lists the processors its records go through, in order, after they were
normalised and before they are validated. Register your own in a module listed in the
``imports`` setting, the way job kinds are registered::

    from scrapeyard.datasets.processors import record_processor

    @record_processor("vat_id")
    def vat_id(record, context):
        record.setdefault("vat_id", lookup(record.get("domain")))
        return record

A processor receives the record (a dict it may change) and a ``Context`` (the source
row it came from, the dataset's default region) and returns the record. It rejects a
record by raising ``errors.RecordRejected("why")``; anything else it raises rejects the
record too, with the exception as the reason, so one bad record never fails a run.

The built-ins work offline and never overwrite a field that is already set:

- ``domain``: ``domain`` from the first URL field, else from the first e-mail address;
- ``company``: ``company`` from the page's metadata (Open Graph ``og:site_name``, a
  JSON-LD ``Organization``, else the site part of the title: "Contact | Acme" -> "Acme");
- ``country``: ``country`` (ISO 3166 code) from the first phone number in E.164.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from scrapeyard import errors
from scrapeyard.datasets import normalise


@dataclass(frozen=True)
class Context:
    """What a processor may look at besides the record itself."""

    source: Mapping[str, Any]
    """The row the record was made from: a page record of a crawl, or an imported row."""
    region: str | None = None
    """The dataset's default region for phone numbers."""
    types: Mapping[str, normalise.FieldType] = field(default_factory=dict)
    """The dataset's field types (where a field's name does not tell)."""

    def type_of(self, name: str) -> normalise.FieldType:
        """The type of field ``name`` in this dataset."""
        return self.types.get(name) or normalise.infer_type(name)


Processor = Callable[[dict[str, Any], Context], dict[str, Any]]


class Registry:
    """Processors by name. ``registry`` below is the one in use."""

    def __init__(self) -> None:
        self._processors: dict[str, Processor] = {}

    def add(self, name: str, processor: Processor) -> None:
        if not name or len(name) > 100:
            raise errors.InvalidInput("processor", "a name of 1 to 100 characters is required")
        existing = self._processors.get(name)
        if existing is not None and existing is not processor:
            raise errors.InvalidInput("processor", f"{name!r} is already registered")
        self._processors[name] = processor

    def __call__(self, name: str) -> Callable[[Processor], Processor]:
        """Decorator: register the decorated function as processor ``name``."""

        def register(processor: Processor) -> Processor:
            self.add(name, processor)
            return processor

        return register

    def get(self, name: str) -> Processor:
        try:
            return self._processors[name]
        except KeyError:
            known = ", ".join(sorted(self._processors)) or "none"
            raise errors.InvalidInput(
                "processors", f"unknown record processor {name!r} (registered: {known})"
            ) from None

    def chain(self, names: Sequence[str]) -> list[tuple[str, Processor]]:
        """The named processors, in order; ``InvalidInput`` for an unknown name."""
        return [(name, self.get(name)) for name in names]

    def __contains__(self, name: object) -> bool:
        return name in self._processors

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._processors))


registry = Registry()
record_processor = registry


def run(
    chain: Sequence[tuple[str, Processor]], record: dict[str, Any], context: Context
) -> dict[str, Any]:
    """``record`` through every processor of ``chain``; ``RecordRejected`` says which
    one refused it and why."""
    for name, processor in chain:
        try:
            result = processor(record, context)
        except errors.RecordRejected:
            raise
        except Exception as exc:
            raise errors.RecordRejected(f"processor {name!r} failed: {exc!r}") from exc
        if not isinstance(result, dict):
            raise errors.RecordRejected(f"processor {name!r} returned no record")
        record = result
    return record


def _first(record: Mapping[str, Any], kind: normalise.FieldType, context: Context) -> str | None:
    for name, value in record.items():
        if context.type_of(name) != kind:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item:
                return item
    return None


def _host(url: str) -> str | None:
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        return None
    return host.removeprefix("www.")


@record_processor("domain")
def domain(record: dict[str, Any], context: Context) -> dict[str, Any]:
    """``domain`` from the record's first URL, else its first e-mail address."""
    if record.get("domain"):
        return record
    url = _first(record, "url", context)
    found = _host(url) if url else None
    if found is None:
        address = _first(record, "email", context)
        if address and "@" in address:
            found = address.rpartition("@")[2] or None
    if found:
        record["domain"] = found
    return record


_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " · ", " :: ", " » ")


def _organisation(jsonld: object) -> str | None:
    stack = [jsonld]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Mapping):
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            name = item.get("name")
            if (
                isinstance(name, str)
                and name
                and {"Organization", "Corporation", "LocalBusiness"} & set(map(str, kinds))
            ):
                return name
            stack.extend(v for k, v in item.items() if k == "@graph")
    return None


_PAGE_WORDS = frozenset(
    "home homepage start welcome contact about imprint impressum kontakt shop blog".split()
)


def _from_title(title: str) -> str | None:
    for separator in _TITLE_SEPARATORS:
        if separator in title:
            parts = [part.strip() for part in title.split(separator) if part.strip()]
            # The site's name usually comes last ("Contact us | Acme GmbH"), unless the
            # last part names the page ("Acme GmbH - Home").
            for part in (parts[-1], parts[0]) if parts else ():
                if not set(part.lower().split()) & _PAGE_WORDS:
                    return part
            return None
    return None


@record_processor("company")
def company(record: dict[str, Any], context: Context) -> dict[str, Any]:
    """``company`` from the source page's metadata."""
    if record.get("company"):
        return record
    metadata = context.source.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    open_graph = metadata.get("open_graph")
    found = None
    if isinstance(open_graph, Mapping):
        found = open_graph.get("og:site_name")
    found = found or _organisation(context.source.get("jsonld"))
    title = metadata.get("title") or record.get("title")
    if not found and isinstance(title, str):
        found = _from_title(title)
    if isinstance(found, str) and normalise.text(found):
        record["company"] = normalise.text(found)
    return record


@record_processor("country")
def country(record: dict[str, Any], context: Context) -> dict[str, Any]:
    """``country`` (ISO 3166-1 alpha-2) from the record's first phone number."""
    if record.get("country"):
        return record
    number = _first(record, "phone", context)
    if not number or not number.startswith("+"):
        return record
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return record
    region = phonenumbers.region_code_for_number(parsed)
    if region and region != "ZZ":
        record["country"] = region
    return record
