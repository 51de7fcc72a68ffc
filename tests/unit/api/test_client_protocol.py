"""The client's reading of the API: event streams, and error envelopes as our errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from scrapeyard import errors
from scrapeyard.client import ApiError, ServerEvent, _parse_events, error_from
from scrapeyard.errors import RateLimited


async def _lines(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


async def test_events_are_parsed_as_the_sse_spec_says() -> None:
    stream = (
        "retry: 2000\n"
        'event: job\ndata: {"id": 1}\n\n'
        ": keep-alive\n\n"
        'event: history\nid: 7\ndata: {"a":\ndata: 1}\n\n'
        "data: plain\n\n"
    )
    events = [event async for event in _parse_events(_lines(stream))]
    assert events == [
        ServerEvent("job", '{"id": 1}', None),
        ServerEvent("history", '{"a":\n1}', "7"),
        ServerEvent("message", "plain", "7"),
    ]
    assert events[1].json() == {"a": 1}


def _response(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://x/"))


def _envelope(code: str, message: str = "m", **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def test_envelopes_become_the_matching_errors() -> None:
    fields = [{"location": "body", "field": "priority", "message": "too big"}]
    invalid = error_from(_response(422, _envelope("invalid_input", fields=fields)))
    assert isinstance(invalid, errors.InvalidInput)
    assert (invalid.field, invalid.problem) == ("body.priority", "too big")
    missing = error_from(_response(404, _envelope("job_not_found", job_id=4)))
    assert isinstance(missing, errors.JobNotFound) and missing.job_id == 4
    conflict = error_from(
        _response(409, _envelope("invalid_transition", job_id=4, status="failed", action="x"))
    )
    assert isinstance(conflict, errors.InvalidTransition) and conflict.status == "failed"
    down = error_from(_response(503, _envelope("database_unavailable", "db down")))
    assert isinstance(down, errors.DatabaseUnavailable) and str(down) == "db down"
    limited = error_from(_response(429, _envelope("rate_limited", retry_after=3)))
    assert isinstance(limited, RateLimited) and limited.retry_after == 3
    stranger = error_from(_response(401, _envelope("not_authenticated", "unknown API key")))
    assert isinstance(stranger, errors.NotAuthenticated) and str(stranger) == "unknown API key"
    narrow = error_from(
        _response(403, _envelope("not_permitted", needed_scope="admin", key_scope="read"))
    )
    assert isinstance(narrow, errors.NotPermitted)
    assert (narrow.needed, narrow.held) == ("admin", "read")


@pytest.mark.parametrize("body", [{"detail": "nope"}, "not json", None])
def test_anything_else_is_an_api_error_with_the_status(body: Any) -> None:
    request = httpx.Request("GET", "http://x/")
    response = (
        httpx.Response(502, text=body, request=request)
        if isinstance(body, str)
        else httpx.Response(502, json=body, request=request)
    )
    error = error_from(response)
    assert isinstance(error, ApiError)
    assert (error.status, error.code) == (502, "http_502")
