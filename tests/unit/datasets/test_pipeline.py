"""A record's way into a dataset: normalise, enrich, validate, key, hash."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.datasets import pipeline, spec

SCHEMA = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "format": "email"}, "age": {"type": "integer"}},
}


def test_the_same_record_has_the_same_hashes_however_it_is_written() -> None:
    steps = pipeline.Pipeline(spec.DatasetSpec("leads", key=("email",)))
    one = steps.prepare({"email": " ANN@Example.com", "name": "Ann  Smith", "city": "Köln"})
    two = steps.prepare({"city": "Ko\u0308ln", "name": "Ann Smith", "email": "ann@example.com"})
    assert one == two
    assert one.key == {"email": "ann@example.com"}
    changed = steps.prepare({"email": "ann@example.com", "name": "Ann Smith", "city": "Bonn"})
    assert changed.key_hash == one.key_hash
    assert changed.content_hash != one.content_hash


def test_schema_violations_and_missing_keys_are_rejected_with_the_reason() -> None:
    steps = pipeline.Pipeline(spec.DatasetSpec("leads", key=("email",), schema=SCHEMA))
    with pytest.raises(errors.RecordRejected, match='age: "x" is not of type "integer"'):
        steps.prepare({"email": "a@b.c", "age": "x"})
    with pytest.raises(errors.RecordRejected, match='"email" is a required property'):
        steps.prepare({"age": 3})
    keyed = pipeline.Pipeline(spec.DatasetSpec("leads", key=("sku",)))
    with pytest.raises(errors.RecordRejected, match="key field 'sku' is missing or empty"):
        keyed.prepare({"sku": "   ", "name": "x"})


def test_processors_run_before_validation() -> None:
    schema = {"type": "object", "required": ["domain"]}
    steps = pipeline.Pipeline(
        spec.DatasetSpec("leads", key=("url",), schema=schema, processors=("domain",))
    )
    prepared = steps.prepare({"url": "/x"}, base_url="https://www.shop.example/")
    assert prepared.data == {"url": "https://www.shop.example/x", "domain": "shop.example"}


def test_a_dataset_without_key_fields_is_keyed_by_the_whole_record() -> None:
    steps = pipeline.Pipeline(spec.DatasetSpec("rows"))
    one = steps.prepare({"a": 1, "b": "x"})
    assert one.key == {} and one.key_hash == one.content_hash
    assert steps.prepare({"b": "x", "a": 1}).key_hash == one.key_hash


def test_values_that_json_cannot_hold_are_rejected() -> None:
    steps = pipeline.Pipeline(spec.DatasetSpec("rows"))
    with pytest.raises(errors.RecordRejected, match="cannot be stored as JSON"):
        steps.prepare({"n": 2**70})
