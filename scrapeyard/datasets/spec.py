"""How a dataset is set up, and what a job that writes into one asks for, validated.

A dataset's settings (``DatasetSpec``): its ``key`` (the fields that identify a record;
empty: the whole record), an optional JSON ``schema``, the ``processors`` its records go
through, ``types`` for fields whose names do not say what they hold, the default
``region`` for phone numbers, and a ``retention`` after which records not seen again
are archived and removed.

A scrape or crawl job writes into a dataset with its ``dataset`` option
(``Target``)::

    "dataset": {"name": "leads", "key": ["email"],
                "fields": {"email": "contacts.emails.0", "company": "metadata.title"},
                "processors": ["domain", "country"], "region": "DE"}

``fields`` maps dataset fields to paths in the page record (``selectors.price``,
``metadata.title``, ``contacts.phones.0``); ``full`` (default true for a crawl, false for
a scrape) says whether the run saw everything, so that records it did not see are
stamped ``gone``. The other keys update the dataset's settings (creating it on first
use); changing the key of a dataset that holds records is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
import phonenumbers

from scrapeyard import config, errors
from scrapeyard.datasets import normalise
from scrapeyard.datasets import processors as processor_registry

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""Dataset names: safe in URLs and file names alike."""
MAX_KEY_FIELDS = 10
MAX_FIELDS = 500
MAX_SCHEMA_BYTES = 256 * 1024
SETTINGS = ("key", "schema", "processors", "types", "region", "retention")
_TARGET_KEYS = frozenset({"name", "fields", "full", *SETTINGS})


def check_name(value: object, where: str = "name") -> str:
    """``value`` if it is a valid dataset name; ``InvalidInput`` naming ``where``."""
    if not isinstance(value, str) or not NAME.match(value):
        raise errors.InvalidInput(
            where,
            "must be 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def _field_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise errors.InvalidInput(where, "must be a field name of 1 to 200 characters")
    return normalise.text(value)


def check_key(value: object, where: str = "key") -> tuple[str, ...]:
    """A key: a list of field names (a single name is taken as a list of one)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise errors.InvalidInput(where, "must be a list of field names")
    if len(value) > MAX_KEY_FIELDS:
        raise errors.InvalidInput(where, f"at most {MAX_KEY_FIELDS} fields")
    names = tuple(_field_name(item, f"{where}[{i}]") for i, item in enumerate(value))
    if len(set(names)) != len(names):
        raise errors.InvalidInput(where, "lists a field twice")
    return names


def check_schema(value: object, where: str = "schema") -> dict[str, Any] | None:
    """A JSON Schema (any draft jsonschema-rs knows), or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise errors.InvalidInput(where, "must be a JSON Schema object")
    schema = dict(value)
    try:
        jsonschema_rs.meta.validate(schema)
        jsonschema_rs.validator_for(schema)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise errors.InvalidInput(where, f"is not a valid JSON Schema: {first}") from None
    return schema


def check_processors(value: object, where: str = "processors") -> tuple[str, ...]:
    """Names of registered record processors."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise errors.InvalidInput(where, "must be a list of processor names")
    for index, name in enumerate(value):
        try:
            processor_registry.registry.get(name)
        except errors.InvalidInput as exc:
            raise errors.InvalidInput(f"{where}[{index}]", exc.problem) from None
    return tuple(value)


def check_types(value: object, where: str = "types") -> dict[str, normalise.FieldType]:
    """``{"field": "url" | "email" | "phone" | "price" | "text" | "raw"}``."""
    if not isinstance(value, Mapping):
        raise errors.InvalidInput(where, "must be an object of field types")
    if len(value) > MAX_FIELDS:
        raise errors.InvalidInput(where, f"at most {MAX_FIELDS} fields")
    types: dict[str, normalise.FieldType] = {}
    for name, kind in value.items():
        field_name = _field_name(name, where)
        if kind not in normalise.FIELD_TYPES:
            raise errors.InvalidInput(
                f"{where}.{name}", f"must be one of {', '.join(normalise.FIELD_TYPES)}"
            )
        types[field_name] = kind
    return types


def check_region(value: object, where: str = "region") -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.upper() in phonenumbers.SUPPORTED_REGIONS:
        return value.upper()
    raise errors.InvalidInput(where, f"{value!r} is not a region code such as 'US' or 'DE'")


def check_retention(value: object, where: str = "retention") -> float | None:
    """Seconds, from a number or a duration such as ``90d``; None keeps records forever."""
    if value is None:
        return None
    try:
        seconds = config.parse_duration(value)
    except ValueError as exc:
        raise errors.InvalidInput(where, str(exc)) from None
    if seconds <= 0:
        raise errors.InvalidInput(where, "must be longer than zero")
    return seconds


def check_fields(value: object, where: str = "fields") -> dict[str, str] | None:
    """A mapping of dataset fields to paths in the source record, or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise errors.InvalidInput(where, "must be an object mapping fields to record paths")
    if len(value) > MAX_FIELDS:
        raise errors.InvalidInput(where, f"at most {MAX_FIELDS} fields")
    fields: dict[str, str] = {}
    for name, path in value.items():
        field_name = _field_name(name, where)
        if not isinstance(path, str) or not path.strip() or len(path) > 500:
            raise errors.InvalidInput(f"{where}.{name}", "must be a path such as selectors.price")
        fields[field_name] = path.strip()
    return fields


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's settings, as stored."""

    name: str
    key: tuple[str, ...] = ()
    schema: dict[str, Any] | None = None
    processors: tuple[str, ...] = ()
    types: Mapping[str, normalise.FieldType] = field(default_factory=dict)
    region: str | None = None
    retention: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DatasetSpec:
        return cls(
            name=row["name"],
            key=tuple(row["key"] or ()),
            schema=row["schema"],
            processors=tuple(row["processors"] or ()),
            types=dict(row["types"] or {}),
            region=row["region"],
            retention=row["retention"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": list(self.key),
            "schema": self.schema,
            "processors": list(self.processors),
            "types": dict(self.types),
            "region": self.region,
            "retention": self.retention,
        }


def check_settings(values: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """The dataset settings among ``values``, validated (only those present), as they
    are stored."""
    prefix = f"{where}." if where else ""
    checks = {
        "key": check_key,
        "schema": check_schema,
        "processors": check_processors,
        "types": check_types,
        "region": check_region,
        "retention": check_retention,
    }
    checked = {
        name: checks[name](values[name], f"{prefix}{name}") for name in SETTINGS if name in values
    }
    # As stored: JSON has lists, not tuples.
    return {k: list(v) if isinstance(v, tuple) else v for k, v in checked.items()}


@dataclass(frozen=True)
class Target:
    """Where a job's records go: a dataset, how to map them, whether the run is full."""

    name: str
    settings: Mapping[str, Any]
    """Dataset settings the job sets (see ``check_settings``)."""
    fields: Mapping[str, str] | None
    full: bool


def parse_target(value: object, mode: str, where: str = "dataset") -> Target:
    """The ``dataset`` option of a ``mode`` job (scrape or crawl), validated.

    A name alone is enough: ``"dataset": "leads"``.
    """
    if mode == "map":
        raise errors.InvalidInput(where, "a map job stores no pages to put in a dataset")
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise errors.InvalidInput(where, "must be a dataset name or an object with a name")
    unknown = sorted(set(value) - _TARGET_KEYS)
    if unknown:
        raise errors.InvalidInput(f"{where}.{unknown[0]}", "unknown option")
    full = value.get("full", mode == "crawl")
    if not isinstance(full, bool):
        raise errors.InvalidInput(f"{where}.full", "must be true or false")
    return Target(
        name=check_name(value.get("name"), f"{where}.name"),
        settings=check_settings(value, where),
        fields=check_fields(value.get("fields"), f"{where}.fields"),
        full=full,
    )


def default_key(fields: Sequence[str] | None) -> tuple[str, ...]:
    """The key a new dataset fed by pages gets when none is given: the page URL."""
    if fields is not None and "url" not in fields:
        return ()
    return ("url",)
