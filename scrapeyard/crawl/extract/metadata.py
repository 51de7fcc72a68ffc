"""The ``metadata`` format: what a page says about itself in its ``<head>``, plus the
HTTP status and content type the fetcher saw.

- ``title``: the first ``<title>``, whitespace-normalised.
- ``description``: ``<meta name="description">``.
- ``language``: ``<html lang>``, else ``<meta http-equiv="content-language">``.
- ``canonical``: ``<link rel="canonical">``, absolute (resolved against the base URL).
- ``open_graph``: every ``og:*`` property, ``{"og:title": "..."}``; when a property
  repeats (several ``og:image``), the first one wins. Pages that put ``og:*`` in
  ``name`` instead of ``property`` are read too.

Names and ``rel`` values match case-insensitively; empty values count as absent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from scrapeyard.crawl.extract import links

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document


class Metadata(TypedDict):
    """The ``metadata`` format of one page."""

    title: str | None
    description: str | None
    language: str | None
    canonical: str | None
    open_graph: dict[str, str]
    status: int | None
    content_type: str | None


def extract(
    page: document.Document, *, status: int | None = None, content_type: str | None = None
) -> Metadata:
    """The metadata of ``page``; ``status`` and ``content_type`` are passed through."""
    tree = page.tree
    title_node = tree.css_first("head title") or tree.css_first("title")
    description: str | None = None
    content_language: str | None = None
    open_graph: dict[str, str] = {}
    # One pass over <meta>: three separate case-insensitive queries cost more.
    for node in tree.css("meta"):
        attrs = node.attrs
        content = (attrs.get("content") or "").strip()
        if not content:
            continue
        name = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        if name.startswith("og:"):
            open_graph.setdefault(name, content)
        elif name == "description":
            description = description or content
        elif (attrs.get("http-equiv") or "").strip().lower() == "content-language":
            content_language = content_language or content
    root = tree.root
    language = ((root.attrs.get("lang") or "").strip() if root is not None else "") or None
    return {
        "title": _collapse(title_node.text()) if title_node is not None else None,
        "description": description,
        "language": language or content_language,
        "canonical": _canonical(page),
        "open_graph": open_graph,
        "status": status,
        "content_type": content_type,
    }


def _canonical(page: document.Document) -> str | None:
    for node in page.tree.css("link[rel][href]"):
        rel = (node.attrs.get("rel") or "").lower().split()
        href = node.attrs.get("href")
        if "canonical" in rel and href:
            return links.Resolver(page.base_url)(href)
    return None


def _collapse(value: str) -> str | None:
    return " ".join(value.split()) or None
