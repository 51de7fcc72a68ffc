"""One record's way into a dataset: normalise, enrich, validate, key, hash.

``Pipeline(spec).prepare(data, source)`` returns a ``Prepared`` record ready to store,
or raises ``errors.RecordRejected`` with the reason (a schema violation, a missing key
field, a processor's refusal). The steps, in order:

1. normalise the values (``normalise.record``);
2. run the dataset's processors (``processors.run``), which may add fields;
3. validate against the dataset's JSON Schema, if it has one;
4. take the key: the values of the key fields, all present and non-empty (a dataset
   without key fields is keyed by the whole record);
5. hash the key and the content: BLAKE2b over canonical JSON (sorted keys), so that the
   same record always has the same hashes, on every host and in every run.

Nothing here touches the database; the worker stores what comes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from scrapeyard import errors
from scrapeyard.datasets import normalise, processors, spec, validation


@dataclass(frozen=True)
class Prepared:
    """A record as stored: its key and data, and their hashes."""

    key_hash: str
    key: dict[str, Any]
    data: dict[str, Any]
    content_hash: str

    def to_row(self) -> dict[str, Any]:
        return {
            "key_hash": self.key_hash,
            "key": self.key,
            "data": self.data,
            "content_hash": self.content_hash,
        }


def digest(value: Any) -> str:
    """A 128-bit hex digest of ``value`` as canonical JSON."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:
        raise errors.RecordRejected(f"cannot be stored as JSON: {exc}") from None
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


class Pipeline:
    """The steps a dataset's records go through (see the module docstring)."""

    def __init__(
        self, dataset: spec.DatasetSpec, registry: processors.Registry = processors.registry
    ) -> None:
        self.dataset = dataset
        self._chain = registry.chain(dataset.processors)
        self._schema = (
            validation.SchemaCheck(dataset.schema) if dataset.schema is not None else None
        )
        self._types = dict(dataset.types)

    def prepare(
        self,
        data: Mapping[str, Any],
        source: Mapping[str, Any] | None = None,
        *,
        base_url: str | None = None,
    ) -> Prepared:
        """``data`` ready to store; ``RecordRejected`` says why it cannot be."""
        record = normalise.record(
            data, types=self._types, base=base_url, region=self.dataset.region
        )
        if self._chain:
            context = processors.Context(
                source if source is not None else data, self.dataset.region, self._types
            )
            record = processors.run(self._chain, record, context)
        if self._schema is not None:
            problem = self._schema.problem(record)
            if problem is not None:
                raise errors.RecordRejected(problem)
        content_hash = digest(record)
        if not self.dataset.key:
            return Prepared(content_hash, {}, record, content_hash)
        key: dict[str, Any] = {}
        for name in self.dataset.key:
            value = record.get(name)
            if value is None or value == "" or value == [] or value == {}:
                raise errors.RecordRejected(f"the key field {name!r} is missing or empty")
            key[name] = value
        return Prepared(digest(list(key.values())), key, record, content_hash)
