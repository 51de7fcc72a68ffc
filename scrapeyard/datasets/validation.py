"""Checking records against a dataset's JSON Schema.

The schema is compiled once per run (jsonschema-rs, which validates a typical record in
microseconds, so a million-row import is not slowed down by it). A record that fails
is not an error of the run: it is set aside as a reject, with the first problem found
as the reason (``price: "abc" is not of type "number"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema_rs


class SchemaCheck:
    """A compiled schema; ``problem(record)`` is ``None`` for a valid record."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._validator = jsonschema_rs.validator_for(dict(schema))

    def problem(self, record: Mapping[str, Any]) -> str | None:
        """Why ``record`` fails the schema (the first problem), or None."""
        if self._validator.is_valid(record):
            return None
        for error in self._validator.iter_errors(record):
            path = ".".join(str(part) for part in error.instance_path)
            return f"{path}: {error.message}" if path else error.message
        return "does not match the dataset's schema"  # pragma: no cover - is_valid said so
