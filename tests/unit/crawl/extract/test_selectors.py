"""The selectors format: the spec, its validation, and CSS and XPath extraction."""

from __future__ import annotations

from typing import Any

import pytest

from scrapeyard import errors
from scrapeyard.crawl.extract import document, selectors

PRODUCT = """<html><head><title>Oak Chair</title></head><body>
<h1 class="title">  Oak
    Chair <small>(new)</small> </h1>
<span class="price"><span class="currency">$</span>19.99</span>
<span class="sku" data-sku=" SKU-1 ">SKU: <b>SKU-1</b></span>
<ul class="tags"><li>wood</li><li> </li><li>chair</li></ul>
<img src="/1.jpg"><img alt="no src"><img src="/2.jpg">
</body></html>"""


def extract(spec: Any, html: str = PRODUCT) -> dict[str, selectors.Value]:
    fields = selectors.compile_fields(spec)
    return selectors.extract(document.Document(html, "https://example.com/"), fields)


def test_text_pseudo_element_yields_own_text_nodes_like_scrapy() -> None:
    assert extract({"title": "h1::text", "price": ".price::text"}) == {
        "title": "Oak Chair",  # whitespace normalised, <small> not included
        "price": "19.99",
    }


def test_descendant_text_with_star() -> None:
    assert extract({"title": {"css": "h1 *::text", "all": True}}) == {"title": ["(new)"]}


def test_element_selector_yields_its_whole_text() -> None:
    assert extract({"title": "h1", "price": ".price"}) == {
        "title": "Oak Chair (new)",
        "price": "$19.99",
    }


def test_attr_pseudo_element_skips_elements_without_the_attribute() -> None:
    assert extract(
        {"images": {"css": "img::attr(src)", "all": True}, "sku": ".sku::attr(DATA-SKU)"}
    ) == {
        "images": ["/1.jpg", "/2.jpg"],
        "sku": "SKU-1",
    }


def test_a_pseudo_element_applies_to_the_whole_group() -> None:
    spec = {"texts": {"css": "h1, .price::text", "all": True}, "odd": "a[title='::']::text"}
    html = "<h1>Title</h1><p class=price>9</p><a title='::'>colons</a>"
    assert extract(spec, html) == {"texts": ["Title", "9"], "odd": "colons"}


def test_all_skips_empty_values_and_one_value_takes_the_first_non_empty() -> None:
    assert extract({"tags": {"selector": "li", "all": True}, "first": "ul.tags li::text"}) == {
        "tags": ["wood", "chair"],
        "first": "wood",
    }


def test_no_match_is_none_or_an_empty_list() -> None:
    assert extract({"one": ".missing", "many": {"css": ".missing", "all": True}}) == {
        "one": None,
        "many": [],
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("//h1/text()", "Oak Chair"),
        ("(//img/@src)[2]", "/2.jpg"),
        ("./body/span[@class='sku']", "SKU: SKU-1"),
        ({"xpath": "//span[@class='price']"}, "$19.99"),
        ({"xpath": "count(//img)"}, "3"),
        ({"xpath": "count(//img) div 2"}, "1.5"),
        ({"xpath": "boolean(//h1)"}, "true"),
        ({"xpath": "string(//title)"}, "Oak Chair"),
        ({"xpath": "//li[re:test(., '^ch')]/text()"}, "chair"),
        ({"selector": "//li[last()]"}, "chair"),
    ],
)
def test_xpath(spec: Any, expected: str) -> None:
    assert extract({"field": spec}) == {"field": expected}


def test_xpath_all() -> None:
    assert extract({"srcs": {"xpath": "//img/@src", "all": True}}) == {"srcs": ["/1.jpg", "/2.jpg"]}


def test_css_fields_do_not_build_the_lxml_tree() -> None:
    page = document.Document(PRODUCT, "https://example.com/")
    selectors.extract(page, selectors.compile_fields({"a": "h1::text", "b": "img::attr(src)"}))
    assert "selector" not in vars(page)


def test_compiled_fields() -> None:
    assert selectors.compile_fields(
        {"a": " h1 > b::attr( HREF ) ", "b": {"xpath": "//p", "all": True}, "c": "p::text"}
    ) == (
        selectors.Field("a", "css", "h1 > b", "attr", "href"),
        selectors.Field("b", "xpath", "//p", all=True),
        selectors.Field("c", "css", "p", "text"),
    )


def test_none_and_empty_mean_no_fields() -> None:
    assert selectors.compile_fields(None) == ()
    assert selectors.compile_fields({}) == ()


@pytest.mark.parametrize(
    ("spec", "field", "problem"),
    [
        (["h1"], "selectors", "must be an object"),
        ("h1", "selectors", "must be an object"),
        ({"price": 3}, "selectors.price", "must be a selector string or an object"),
        ({"price": ""}, "selectors.price", "empty"),
        ({"price": "   "}, "selectors.price", "empty"),
        ({"price": "span["}, "selectors.price", "invalid CSS selector"),
        ({"price": "span::before"}, "selectors.price", "pseudo-elements are ::text and"),
        ({"price": "::text"}, "selectors.price", "pseudo-elements are ::text and"),
        ({"price": "a::text b"}, "selectors.price", "pseudo-elements are ::text and"),
        ({"price": "a::attr()"}, "selectors.price", "pseudo-elements are ::text and"),
        ({"price": "h1::text, h2::text"}, "selectors.price", "pseudo-elements are ::text and"),
        ({"price": "//span["}, "selectors.price", "invalid XPath"),
        ({"price": {"xpath": "nosuch:fn()"}}, "selectors.price", "invalid XPath"),
        ({"price": {"xpath": "$undefined"}}, "selectors.price", "invalid XPath"),
        ({"price": {"css": "//span"}}, "selectors.price", "invalid CSS selector"),
        ({"price": {"css": "a", "xpath": "//a"}}, "selectors.price", "exactly one"),
        ({"price": {"all": True}}, "selectors.price", "exactly one"),
        ({"price": {"css": "a", "first": True}}, "selectors.price", "unknown option 'first'"),
        ({"price": {"css": "a", "all": "yes"}}, "selectors.price", "'all' must be true or false"),
        ({"price": {"css": 1}}, "selectors.price", "'css' must be a string"),
        ({"price": "a" * 2001}, "selectors.price", "longer than"),
        ({"": "a"}, "selectors", "field names"),
        ({1: "a"}, "selectors", "field names"),
        ({f"f{n}": "a" for n in range(101)}, "selectors", "at most 100 fields"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(spec: Any, field: str, problem: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        selectors.compile_fields(spec)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_broken_pages_give_values_not_errors() -> None:
    spec = {"a": "h1::text", "b": "//h1/text()", "c": {"css": "td::attr(x)", "all": True}}
    assert extract(spec, "<h1>Open <table><td x=1>cell") == {"a": "Open", "b": "Open", "c": ["1"]}
    assert extract(spec, "") == {"a": None, "b": None, "c": []}


def test_an_xpath_failing_on_a_page_gives_no_value_instead_of_an_error() -> None:
    # The variable is only evaluated when an <h1> exists, so validation cannot see it.
    spec = {"x": {"xpath": "//h1[@id=$nope]"}, "all": {"xpath": "//h1[@id=$nope]", "all": True}}
    assert extract(spec) == {"x": None, "all": []}
