"""Dataset settings and the ``dataset`` option of crawl jobs, checked at the door."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.crawl import options
from scrapeyard.datasets import spec


def test_a_name_alone_is_a_target_and_a_crawl_is_a_full_run() -> None:
    target = spec.parse_target("leads", "crawl")
    assert (target.name, target.full, target.fields) == ("leads", True, None)
    assert spec.parse_target({"name": "x"}, "scrape").full is False


def test_a_full_target_is_checked_field_by_field() -> None:
    target = spec.parse_target(
        {
            "name": "shop.products",
            "key": ["sku"],
            "fields": {"sku": "selectors.sku", "price": "selectors.price"},
            "schema": {"type": "object"},
            "processors": ["domain"],
            "types": {"sku": "text"},
            "region": "de",
            "retention": "90d",
        },
        "crawl",
    )
    assert target.settings == {
        "key": ["sku"],
        "schema": {"type": "object"},
        "processors": ["domain"],
        "types": {"sku": "text"},
        "region": "DE",
        "retention": 90 * 86400.0,
    }


@pytest.mark.parametrize(
    ("value", "field", "problem"),
    [
        ({"name": "../etc"}, "dataset.name", "letters, digits"),
        ({"name": "x", "colour": 1}, "dataset.colour", "unknown option"),
        ({"name": "x", "key": "a b" * 200}, "dataset.key[0]", "field name"),
        ({"name": "x", "schema": {"type": "nope"}}, "dataset.schema", "not a valid JSON Schema"),
        ({"name": "x", "processors": ["nope"]}, "dataset.processors[0]", "unknown record"),
        ({"name": "x", "types": {"a": "colour"}}, "dataset.types.a", "must be one of"),
        ({"name": "x", "region": "XX"}, "dataset.region", "region code"),
        ({"name": "x", "retention": "soon"}, "dataset.retention", "duration"),
        ({"name": "x", "fields": {"a": ""}}, "dataset.fields.a", "path"),
        ({"name": "x", "full": "yes"}, "dataset.full", "true or false"),
        (42, "dataset", "dataset name"),
    ],
)
def test_bad_targets_are_refused_naming_the_field(value: object, field: str, problem: str) -> None:
    with pytest.raises(errors.InvalidInput, match=problem) as caught:
        spec.parse_target(value, "crawl")
    assert caught.value.field == field


def test_the_crawl_options_validate_the_dataset_option_at_enqueue_time() -> None:
    good = {"url": "https://example.com/", "dataset": {"name": "leads", "key": ["url"]}}
    options.validate("crawl", good)
    with pytest.raises(errors.InvalidInput) as caught:
        options.validate("crawl", {**good, "dataset": {"name": "leads", "region": "ZZ"}})
    assert caught.value.field == "dataset.region"
    with pytest.raises(errors.InvalidInput, match="map job stores no pages"):
        options.validate("map", good)
