"""What a job may ask to extract from a page, checked up front, and the one call that
extracts it.

    plan = formats.Plan.build(["metadata", "links"], selectors={"price": ".price::text"})
    record = formats.extract_formats(page, plan, status=200, content_type="text/html")
    # {"metadata": {...}, "links": [...], "selectors": {"price": "9.99"}}

``Plan.build`` validates everything a job says about extraction and raises
``InvalidInput`` naming the offending field (``formats``, ``selectors.price``,
``default_region``); the API calls it when a job is submitted, the worker once per job.
``extract_formats`` never raises on page content: any HTML, however broken, gives a
result, and every value in it can be serialised as JSON.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from scrapeyard import errors
from scrapeyard.crawl.extract import (
    contacts,
    document,
    jsonld,
    links,
    markdown,
    metadata,
    selectors,
    text,
)

Format = Literal["html", "text", "markdown", "links", "metadata", "jsonld", "selectors", "contacts"]
FORMATS: tuple[Format, ...] = typing.get_args(Format)
"""Every format name a job may ask for."""


class Extracted(TypedDict, total=False):
    """The formats extracted from one page, keyed by format name."""

    html: str
    text: str
    markdown: str
    links: list[str]
    metadata: metadata.Metadata
    jsonld: list[dict[str, Any]]
    selectors: dict[str, selectors.Value]
    contacts: contacts.Contacts


def validate_formats(value: object, *, path: str = "formats") -> tuple[Format, ...]:
    """``value`` as a tuple of known format names, duplicates dropped, order kept.

    Raises ``InvalidInput`` naming ``path`` unless ``value`` is a list of format names.
    """
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise errors.InvalidInput(path, "must be a list of format names")
    chosen: dict[Format, None] = {}
    for name in value:
        if name not in FORMATS:
            raise errors.InvalidInput(
                path, f"unknown format {name!r} (known: {', '.join(FORMATS)})"
            )
        chosen[name] = None
    return tuple(chosen)


@dataclass(frozen=True)
class Plan:
    """What to extract from every page of a job, validated once."""

    formats: tuple[Format, ...]
    fields: tuple[selectors.Field, ...] = ()
    """The ``selectors`` fields; not empty exactly when ``formats`` has ``selectors``."""
    default_region: str | None = None
    """Region for phone numbers written without a country code (``contacts``)."""

    @classmethod
    def build(
        cls,
        formats: object,
        *,
        selectors: object = None,
        default_region: object = None,
    ) -> Plan:
        """Validate a job's extraction options (as they come from JSON) into a plan.

        Giving ``selectors`` implies the ``selectors`` format; asking for that format
        without giving any selectors is an error.
        """
        chosen = validate_formats(formats)
        fields = _compile_selectors(selectors)
        if fields and "selectors" not in chosen:
            chosen += ("selectors",)
        if "selectors" in chosen and not fields:
            raise errors.InvalidInput(
                "selectors", "the selectors format needs at least one named selector"
            )
        region = contacts.validate_region(default_region)
        return cls(chosen, fields, region)


def extract_formats(
    page: document.Document,
    plan: Plan,
    *,
    status: int | None = None,
    content_type: str | None = None,
) -> Extracted:
    """Extract ``plan.formats`` from ``page``, in that order.

    ``status`` and ``content_type`` are the HTTP response's, reported by ``metadata``.
    """
    result: Extracted = {}
    for name in plan.formats:
        if name == "html":
            result["html"] = page.html
        elif name == "text":
            result["text"] = text.extract(page)
        elif name == "markdown":
            result["markdown"] = markdown.extract(page)
        elif name == "links":
            result["links"] = links.extract(page)
        elif name == "metadata":
            result["metadata"] = metadata.extract(page, status=status, content_type=content_type)
        elif name == "jsonld":
            result["jsonld"] = jsonld.extract(page)
        elif name == "selectors":
            result["selectors"] = selectors.extract(page, plan.fields)
        elif name == "contacts":
            result["contacts"] = contacts.extract(page, default_region=plan.default_region)
        else:
            typing.assert_never(name)
    return result


def _compile_selectors(spec: object) -> tuple[selectors.Field, ...]:
    # Plan.build's ``selectors`` parameter hides the module inside that method.
    return selectors.compile_fields(spec)
