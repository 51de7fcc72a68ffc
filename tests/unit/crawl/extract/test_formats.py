"""The entry point: validating a job's extraction options and extracting every format,
on ordinary and hostile pages."""

from __future__ import annotations

import random
import time
from typing import Any

import orjson
import pytest

from scrapeyard import errors
from scrapeyard.crawl import extract
from scrapeyard.crawl.extract import formats

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Oak Chair</title>
<link rel="canonical" href="/p/1">
<script type="application/ld+json">{"@type": "Product", "sku": "SKU-1"}</script></head>
<body><nav><a href="/">Home</a></nav><main><h1>Oak Chair</h1>
<span class="price">$19.99</span><a href="mailto:sales@shop.example">mail</a>
</main></body></html>"""


def test_public_names_are_sorted_and_importable() -> None:
    assert extract.__all__ == sorted(extract.__all__)
    for name in extract.__all__:
        assert hasattr(extract, name)


def test_formats_constant() -> None:
    assert extract.FORMATS == (
        "html",
        "text",
        "markdown",
        "links",
        "metadata",
        "jsonld",
        "selectors",
        "contacts",
    )


def test_validate_formats_keeps_order_and_drops_duplicates() -> None:
    assert extract.validate_formats(["links", "html", "links"]) == ("links", "html")
    assert extract.validate_formats(()) == ()


@pytest.mark.parametrize("value", [["links", "pdf"], "links", None, {"links": True}, [1]])
def test_validate_formats_refuses_unknown_formats_and_non_lists(value: object) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        extract.validate_formats(value)
    assert caught.value.field == "formats"


def test_plan_build_validates_everything() -> None:
    plan = extract.Plan.build(
        ["metadata"], selectors={"price": ".price::text"}, default_region="gb"
    )
    assert plan.formats == ("metadata", "selectors")  # selectors imply their format
    assert [field.name for field in plan.fields] == ["price"]
    assert plan.default_region == "GB"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"formats": ["nope"]}, "formats"),
        ({"formats": ["selectors"]}, "selectors"),
        ({"formats": ["selectors"], "selectors": {}}, "selectors"),
        ({"formats": ["links"], "selectors": {"price": "span["}}, "selectors.price"),
        ({"formats": ["contacts"], "default_region": "Mars"}, "default_region"),
    ],
)
def test_plan_build_refuses_bad_options(kwargs: dict[str, Any], field: str) -> None:
    formats_value = kwargs.pop("formats")
    with pytest.raises(errors.InvalidInput) as caught:
        extract.Plan.build(formats_value, **kwargs)
    assert caught.value.field == field


def test_extract_formats_returns_the_requested_formats_in_order() -> None:
    page = extract.Document(PAGE, "https://shop.example/p/1?utm_source=x")
    plan = extract.Plan.build(
        ["links", "jsonld", "html"], selectors={"price": ".price::text", "h1": "//h1/text()"}
    )
    result = extract.extract_formats(page, plan, status=200, content_type="text/html")
    assert list(result) == ["links", "jsonld", "html", "selectors"]
    assert result["links"] == ["https://shop.example/"]
    assert result["jsonld"] == [{"@type": "Product", "sku": "SKU-1"}]
    assert result["html"] == PAGE
    assert result["selectors"] == {"price": "$19.99", "h1": "Oak Chair"}


def test_metadata_gets_status_and_content_type() -> None:
    page = extract.Document(PAGE, "https://shop.example/p/1")
    result = extract.extract_formats(
        page, extract.Plan.build(["metadata"]), status=404, content_type="text/html"
    )
    assert result["metadata"]["status"] == 404
    assert result["metadata"]["content_type"] == "text/html"
    assert result["metadata"]["canonical"] == "https://shop.example/p/1"


def test_html_alone_does_not_parse_the_page() -> None:
    page = extract.Document(PAGE, "https://shop.example/")
    assert extract.extract_formats(page, extract.Plan.build(["html"])) == {"html": PAGE}
    assert "tree" not in vars(page)


def test_empty_plan_extracts_nothing() -> None:
    page = extract.Document(PAGE, "https://shop.example/")
    assert extract.extract_formats(page, extract.Plan.build([])) == {}


def test_result_type_hints_resolve() -> None:
    # pydantic and friends read these at runtime.
    import typing

    assert set(typing.get_type_hints(formats.Extracted)) == set(extract.FORMATS)


EVERYTHING = extract.Plan.build(
    list(extract.FORMATS),
    selectors={
        "title": "title::text",
        "h1": "//h1",
        "hrefs": {"css": "a::attr(href)", "all": True},
        "count": {"xpath": "count(//*)"},
    },
    default_region="US",
)


def _random_html(rng: random.Random) -> bytes:
    tags = ["div", "p", "a href='/x'", "table", "td", "script", "style", "title", "b", "li"]
    parts: list[str] = []
    for _ in range(rng.randrange(50, 400)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(f"<{rng.choice(tags)}>")
        elif roll < 0.6:
            parts.append(f"</{rng.choice(tags).split()[0]}>")
        elif roll < 0.7:
            parts.append(rng.choice(["<!--", "-->", "<![CDATA[", "]]>", "&#0;", "&#xD800;", "<"]))
        else:
            parts.append(
                rng.choice(["text ", "a@b.com ", "+1 415 555 0132 ", "é ", "\x00", "日本"])
            )
    return "".join(parts).encode(rng.choice(["utf-8", "utf-16-le"]), "surrogatepass")


HOSTILE: dict[str, tuple[bytes, str | None]] = {
    "empty": (b"", None),
    "whitespace": (b"   \n\t ", "text/html"),
    "nul bytes": (b"\x00" * 64 + b"<p>a\x00b</p>", None),
    "binary": (bytes(random.Random(3).randrange(256) for _ in range(50_000)), "text/html"),
    "unclosed everything": (
        b"<html><head><title>x<body><p><a href='/a'>a<table><tr><td>" * 500,
        None,
    ),
    "bom utf-8": (b"\xef\xbb\xbf<title>caf\xc3\xa9</title>", "text/html; charset=latin-1"),
    "shift_jis": ("<meta charset=shift_jis><title>日本語</title>".encode("shift_jis"), None),
    "windows-1251": ("<title>Привет</title>".encode("cp1251"), "text/html; charset=windows-1251"),
    "lies about charset": ("<title>Привет</title>".encode("cp1251"), "text/html; charset=utf-8"),
    "bad json-ld": (b'<script type="application/ld+json">{"a": [1,</script>', None),
    "deep nesting": (b"<div>" * 200_000 + b"x", None),
    "a few MB": (
        b"<html><body>"
        + b"".join(
            b"<p>Item %d <a href='/i/%d'>link</a> mail%d@shop.example</p>" % (n, n, n)
            for n in range(50_000)
        )
        + b"</body></html>",
        "text/html",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_pages_never_raise_and_give_storable_results(name: str) -> None:
    body, content_type = HOSTILE[name]
    started = time.perf_counter()
    page = extract.Document.from_bytes(body, "https://example.com/a/b", content_type)
    result = extract.extract_formats(page, EVERYTHING, status=200, content_type=content_type)
    assert list(result) == list(extract.FORMATS)
    orjson.dumps(result)
    assert time.perf_counter() - started < 30


def test_weird_encodings_decode_to_the_right_title() -> None:
    plan = extract.Plan.build(["metadata"])
    for name, title in [("bom utf-8", "café"), ("shift_jis", "日本語"), ("windows-1251", "Привет")]:
        body, content_type = HOSTILE[name]
        page = extract.Document.from_bytes(body, "https://example.com/", content_type)
        assert extract.extract_formats(page, plan)["metadata"]["title"] == title


def test_a_few_megabytes_are_fully_extracted() -> None:
    body, content_type = HOSTILE["a few MB"]
    assert len(body) > 2_000_000
    page = extract.Document.from_bytes(body, "https://example.com/", content_type)
    result = extract.extract_formats(page, extract.Plan.build(["links", "contacts"]))
    assert len(result["links"]) == 50_000
    assert len(result["contacts"]["emails"]) == 50_000


@pytest.mark.parametrize("seed", range(25))
def test_random_markup_never_raises(seed: int) -> None:
    body = _random_html(random.Random(seed))
    page = extract.Document.from_bytes(body, "https://example.com/", None)
    orjson.dumps(extract.extract_formats(page, EVERYTHING))
