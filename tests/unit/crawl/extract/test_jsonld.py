"""The jsonld format: forgiving parsing, flattening of top-level arrays."""

from __future__ import annotations

import orjson
import pytest

from scrapeyard.crawl.extract import document, jsonld


def blocks(*bodies: str, kind: str = "application/ld+json") -> str:
    return "".join(f'<script type="{kind}">{body}</script>' for body in bodies)


def extract(html: str) -> list[dict[str, object]]:
    return jsonld.extract(document.Document(html, "https://example.com/"))


def test_objects_in_document_order_with_arrays_flattened_and_graph_kept() -> None:
    html = blocks(
        '{"@type": "Organization", "name": "Acme"}',
        '[{"@type": "Product", "sku": "1"}, {"@type": "Offer"}, 3, null]',
        '{"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}]}',
    )
    assert extract(html) == [
        {"@type": "Organization", "name": "Acme"},
        {"@type": "Product", "sku": "1"},
        {"@type": "Offer"},
        {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}]},
    ]


def test_type_matches_case_insensitively_with_parameters() -> None:
    html = blocks('{"a": 1}', kind=" Application/LD+JSON; charset=utf-8")
    html += blocks('{"b": 2}', kind="application/json") + '<script>{"c": 3}</script>'
    assert extract(html) == [{"a": 1}]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<!-- {"a": 1} -->', {"a": 1}),
        ('//<![CDATA[\n{"a": 1}\n//]]>', {"a": 1}),
        ('{"a": 1};', {"a": 1}),
        ('{"text": "line one\nline two\ttab"}', {"text": "line one\nline two\ttab"}),
        ('{"n": NaN, "i": Infinity}', {"n": None, "i": None}),
    ],
)
def test_common_malformations_are_repaired(body: str, expected: dict[str, object]) -> None:
    assert extract(blocks(body)) == [expected]


@pytest.mark.parametrize(
    "body",
    ['{"a": 1', "", "not json", '{"a": 1} {"b": 2}', '"\\ud800"', "[" * 5000 + "]" * 5000],
)
def test_blocks_that_cannot_be_parsed_are_skipped(body: str) -> None:
    assert extract(blocks(body, '{"ok": true}')) == [{"ok": True}]


def test_results_can_always_be_stored_as_json() -> None:
    huge = "1" * 40
    found = extract(blocks(f'{{"big": {huge}, "s": "\\ud83d\\ude00 x\ny"}}'))
    assert found == [{"big": huge, "s": "😀 x\ny"}]
    orjson.dumps(found)
