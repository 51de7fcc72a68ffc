"""The OpenAPI document: every operation, parameter and field described, errors documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scrapeyard import config
from scrapeyard.app import create_app


@pytest.fixture
def spec(tmp_path: Path) -> dict[str, Any]:
    # Building the document opens nothing: the database is only opened by the lifespan.
    app = create_app(config.load_settings(database_url=f"sqlite:///{tmp_path}/unused.db"))
    document: dict[str, Any] = app.openapi()
    assert not (tmp_path / "unused.db").exists()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_parameter_and_field_is_described(spec: dict[str, Any]) -> None:
    undescribed = []
    for label, operation in _operations(spec):
        if not operation.get("description") or not operation.get("summary"):
            undescribed.append(label)
        if not operation.get("tags"):
            undescribed.append(f"{label} (no tag)")
        undescribed += [
            f"{label} {parameter['name']}"
            for parameter in operation.get("parameters", [])
            if not parameter.get("description")
        ]
    for name, schema in spec["components"]["schemas"].items():
        undescribed += [
            f"{name}.{field}"
            for field, definition in schema.get("properties", {}).items()
            if not definition.get("description")
        ]
    assert undescribed == []


def test_errors_are_documented_with_the_envelope(spec: dict[str, Any]) -> None:
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for label, operation in _operations(spec):
        if label.startswith(("GET /healthz", "GET /readyz")):
            assert "security" not in operation, label
            continue
        responses = operation["responses"]
        assert {"401", "429", "503"} <= set(responses), label
        for status in ("401", "429"):
            assert responses[status]["content"]["application/json"]["schema"] == envelope
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["paths"]["/metrics"]["get"]["security"] == [{"apiKey": []}, {}]
