"""The ``selectors`` format: named fields picked out of a page by CSS or XPath.

A job gives its fields as a JSON object, checked by ``compile_fields`` when the job is
submitted (so a bad selector is refused then, not found out page by page)::

    {
        "title": "h1::text",                                # CSS, first value
        "price": {"css": ".price::text"},
        "images": {"css": "img::attr(src)", "all": true},   # every value, a list
        "sku": "//span[@itemprop='sku']/text()",            # XPath
        "brand": {"xpath": "string(//*[@itemprop='brand'])"}
    }

A field is a selector string, or an object with exactly one of ``selector``, ``css`` or
``xpath`` and optionally ``all`` (default false). A selector string (and ``selector``)
is XPath when it starts with ``/``, ``./`` or ``(``, CSS otherwise.

What a selector yields:

- CSS ending in ``::text``: the matched elements' own text nodes, as in Scrapy (``h1::text``
  on ``<h1>Big <b>sale</b></h1>`` is ``Big``); ``h1 *::text`` reaches descendants.
- CSS ending in ``::attr(name)``: that attribute of each matched element that has it.
- The pseudo-element applies to the whole selector: ``h1, h2::text`` is the text of both.
- A selector ending on elements (CSS without a pseudo-element, or XPath such as ``//h1``):
  each element's whole text. Scrapy would return its markup; records hold data.
- XPath yielding strings, numbers or booleans: those, as strings (``count(//a)`` -> "12").

Each value has its whitespace normalised (runs collapsed to one space, ends stripped,
as XPath's ``normalize-space``) and empty values are skipped. A field is its first value
or None, or with ``"all": true`` the list of its values, possibly empty.

CSS runs on the shared lexbor tree (about 5 µs a field on the benchmark pages); the
first XPath field of a page costs an lxml parse of it (about 150 µs), later ones reuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from selectolax import lexbor

from scrapeyard import errors

if TYPE_CHECKING:
    from scrapeyard.crawl.extract import document

MAX_FIELDS = 100
MAX_SELECTOR_LENGTH = 2000
MAX_NAME_LENGTH = 100

Value = str | list[str] | None
"""One field's value in the ``selectors`` format."""

_XPATH_PREFIXES = ("/", "./", "(")
_SPEC_KEYS = frozenset({"selector", "css", "xpath", "all"})
_PSEUDO = re.compile(r"::(?:(text)|attr\(\s*([^\s()]+)\s*\))\s*$")


@dataclass(frozen=True)
class Field:
    """One validated field of the ``selectors`` format."""

    name: str
    engine: Literal["css", "xpath"]
    query: str
    """The XPath, or the CSS without its pseudo-element."""
    pseudo: Literal["text", "attr"] | None = None
    """CSS only: ``::text`` or ``::attr(...)``."""
    attribute: str | None = None
    """The attribute named by ``::attr(name)``, lower-cased as the parser stores it."""
    all: bool = False
    """Whether the field is the list of every value rather than the first one."""


def compile_fields(spec: object, *, path: str = "selectors") -> tuple[Field, ...]:
    """Check a job's ``selectors`` and turn them into fields; ``None`` means none.

    Raises ``InvalidInput`` naming the offending field, e.g. ``selectors.price``.
    """
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise errors.InvalidInput(path, "must be an object mapping field names to selectors")
    if len(spec) > MAX_FIELDS:
        raise errors.InvalidInput(path, f"at most {MAX_FIELDS} fields are allowed")
    return tuple(_compile_field(name, value, path) for name, value in spec.items())


def extract(page: document.Document, fields: tuple[Field, ...]) -> dict[str, Value]:
    """The value of each field on ``page``, by field name; never raises."""
    result: dict[str, Value] = {}
    for field in fields:
        values = _css_values(page, field) if field.engine == "css" else _xpath_values(page, field)
        result[field.name] = list(values) if field.all else next(values, None)
    return result


# -- validation -----------------------------------------------------------------------


def _compile_field(name: object, value: object, path: str) -> Field:
    if not isinstance(name, str) or not name.strip():
        raise errors.InvalidInput(path, "field names must be non-empty strings")
    where = f"{path}.{name}"
    if len(name) > MAX_NAME_LENGTH:
        raise errors.InvalidInput(where, f"field names are at most {MAX_NAME_LENGTH} characters")
    many = False
    if isinstance(value, str):
        engine, query = _guess_engine(value), value
    elif isinstance(value, Mapping):
        engine, query, many = _read_options(value, where)
    else:
        raise errors.InvalidInput(
            where, 'must be a selector string or an object such as {"css": "...", "all": true}'
        )
    query = query.strip()
    if not query:
        raise errors.InvalidInput(where, "the selector is empty")
    if len(query) > MAX_SELECTOR_LENGTH:
        raise errors.InvalidInput(
            where, f"the selector is longer than {MAX_SELECTOR_LENGTH} characters"
        )
    if engine == "xpath":
        _check_xpath(query, where)
        return Field(name, "xpath", query, all=many)
    return _compile_css(name, query, many, where)


def _read_options(
    options: Mapping[object, object], where: str
) -> tuple[Literal["css", "xpath"], str, bool]:
    unknown = sorted(str(key) for key in options if key not in _SPEC_KEYS)
    if unknown:
        raise errors.InvalidInput(
            where, f"unknown option {unknown[0]!r} (allowed: all, css, selector, xpath)"
        )
    given = [key for key in ("selector", "css", "xpath") if key in options]
    if len(given) != 1:
        raise errors.InvalidInput(where, "give exactly one of 'selector', 'css' or 'xpath'")
    key = given[0]
    query = options[key]
    if not isinstance(query, str):
        raise errors.InvalidInput(where, f"{key!r} must be a string")
    many = options.get("all", False)
    if not isinstance(many, bool):
        raise errors.InvalidInput(where, "'all' must be true or false")
    if key == "css":
        return "css", query, many
    if key == "xpath":
        return "xpath", query, many
    return _guess_engine(query), query, many


def _guess_engine(query: str) -> Literal["css", "xpath"]:
    return "xpath" if query.lstrip().startswith(_XPATH_PREFIXES) else "css"


def _compile_css(name: str, query: str, many: bool, where: str) -> Field:
    pseudo: Literal["text", "attr"] | None = None
    attribute = None
    match = _PSEUDO.search(query)
    if match is not None:
        pseudo = "text" if match.group(1) else "attr"
        attribute = match.group(2).lower() if match.group(2) else None
        query = query[: match.start()].rstrip()
    try:
        lexbor.LexborHTMLParser("<p></p>").css(query)
    except (lexbor.SelectolaxError, ValueError) as exc:
        if "::" in query or not query:
            problem = "the only pseudo-elements are ::text and ::attr(name), at the very end"
        else:
            problem = f"invalid CSS selector {query!r}"
        raise errors.InvalidInput(where, problem) from exc
    return Field(name, "css", query, pseudo, attribute, many)


def _check_xpath(query: str, where: str) -> None:
    # Evaluating against a tiny page also catches unknown functions and variables,
    # which compile but would fail on every page.
    # Imported on first use: lxml and parsel cost ~18 MB, which CSS-only jobs never need.
    import parsel

    try:
        parsel.Selector(text="<p></p>", type="html").xpath(query)
    except ValueError as exc:
        raise errors.InvalidInput(where, f"invalid XPath {query!r}: {exc}") from exc


# -- extraction -----------------------------------------------------------------------


def _css_values(page: document.Document, field: Field) -> Iterator[str]:
    for node in page.tree.css(field.query):
        if field.pseudo is None:
            yield from _normalized(node.text())
        elif field.pseudo == "text":
            for child in node.iter(include_text=True):
                if child.is_text_node:
                    yield from _normalized(child.text_content)
        elif field.attribute is not None:
            yield from _normalized(node.attrs.get(field.attribute))


def _xpath_values(page: document.Document, field: Field) -> Iterator[str]:
    try:
        results = page.selector.xpath(field.query)
    except ValueError:  # validated up front; only a page-dependent failure gets here
        return
    for result in results:
        root = result.root
        if isinstance(root, str):
            yield from _normalized(root)
        elif isinstance(root, bool):
            yield "true" if root else "false"
        elif isinstance(root, int | float):
            yield str(int(root)) if float(root).is_integer() else str(root)
        else:
            yield from _normalized(result.xpath("string()").get())


def _normalized(value: str | None) -> Iterator[str]:
    """Zero or one value: ``value`` whitespace-normalised, unless that leaves nothing."""
    if value:
        value = " ".join(value.split())
        if value:
            yield value
