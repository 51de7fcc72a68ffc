"""How errors map to statuses, codes and field paths."""

from __future__ import annotations

import pytest

from scrapeyard import errors as core
from scrapeyard.api import errors


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (core.InvalidInput("priority", "too big"), 422, "invalid_input"),
        (core.UnknownKind("x", ["noop"]), 422, "unknown_kind"),
        (core.ConfigError("imports", "bad"), 422, "invalid_input"),
        (core.JobNotFound(3), 404, "job_not_found"),
        (core.InvalidTransition(3, "succeeded", "cancel"), 409, "invalid_transition"),
        (core.QueueError("busy"), 409, "conflict"),
        (core.DatabaseUnavailable("down"), 503, "database_unavailable"),
        (core.SchemaOutOfDate("old"), 503, "schema_out_of_date"),
        (core.NotAuthenticated(), 401, "not_authenticated"),
        (core.NotPermitted("write", "read"), 403, "not_permitted"),
        (core.RateLimited(0.2), 429, "rate_limited"),
        (core.ScrapeyardError("unexpected"), 500, "internal_error"),
    ],
)
def test_each_error_has_one_status_and_code(
    exc: core.ScrapeyardError, status: int, code: str
) -> None:
    assert errors.status_of(exc) == (status, code)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert core.RateLimited(0.01).retry_after == 1
    assert core.RateLimited(1.2).retry_after == 2


def test_field_errors_keep_the_location_apart_from_the_path() -> None:
    problems = [
        {"type": "less_than_equal", "loc": ("body", "payload", "items", 0), "msg": "too big"},
        {
            "type": "json_invalid",
            "loc": ("body", 17),
            "msg": "JSON decode error",
            "ctx": {"error": "Expecting value"},
        },
        {"type": "missing", "loc": ("query", "limit"), "msg": "Field required"},
    ]
    assert errors.field_errors(problems) == [
        {"location": "body", "field": "payload.items.0", "message": "too big"},
        {"location": "body", "field": "", "message": "Expecting value at character 17"},
        {"location": "query", "field": "limit", "message": "Field required"},
    ]
