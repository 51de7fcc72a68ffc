"""Every failure comes back in one envelope, with field paths; bad input is never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from scrapeyard.api.options import ApiOptions
from tests.api.conftest import StartServer, bearer


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def _fields(error: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(field["location"], field["field"]) for field in error["details"]["fields"]]


async def test_validation_errors_name_every_offending_field(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/jobs",
        json={"kind": "noop", "priority": 5000, "delay": -1, "payload": {"sleep": 1}, "oops": 1},
    )
    error = _error(response, 422)
    assert error["code"] == "invalid_input"
    assert sorted(_fields(error)) == [("body", "delay"), ("body", "oops"), ("body", "priority")]
    assert "body.priority" in error["message"]


async def test_wrong_types_are_refused_not_coerced(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/jobs", json={"kind": ["noop"], "payload": "text", "priority": "5"}
    )
    error = _error(response, 422)
    assert sorted(_fields(error)) == [("body", "kind"), ("body", "payload"), ("body", "priority")]


async def test_malformed_json_is_an_invalid_body(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/jobs", content=b'{"kind": "noop",', headers={"content-type": "application/json"}
    )
    error = _error(response, 422)
    assert _fields(error) == [("body", "")]
    assert "character" in error["details"]["fields"][0]["message"]


async def test_a_body_that_is_not_json_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/jobs", content=b"kind=noop", headers={"content-type": "text/plain"}
    )
    assert _error(response, 422)["code"] == "invalid_input"


async def test_an_unknown_kind_names_the_field_and_the_registered_kinds(
    api: httpx.AsyncClient,
) -> None:
    error = _error(await api.post("/v1/jobs", json={"kind": "nope"}), 422)
    assert error["code"] == "unknown_kind"
    assert _fields(error) == [(None, "kind")]
    assert "noop" in error["details"]["fields"][0]["message"]


async def test_store_rules_come_back_as_field_errors(api: httpx.AsyncClient) -> None:
    both = {"kind": "noop", "delay": 5, "run_at": "2030-01-01T00:00:00Z"}
    assert _fields(_error(await api.post("/v1/jobs", json=both), 422)) == [(None, "delay")]
    big = {"kind": "noop", "payload": {"blob": "x" * (8 * 1024 * 1024)}}
    assert _fields(_error(await api.post("/v1/jobs", json=big), 422)) == [(None, "payload")]


@pytest.mark.parametrize(
    "payload",
    [{"text": "a\u0000b"}, {"a\u0000": 1}, {"deep": [{"x": ["\u0000"]}]}],
)
async def test_text_no_database_can_store_is_refused_on_every_backend(
    api: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    response = await api.post("/v1/jobs", json={"kind": "noop", "payload": payload})
    assert _fields(_error(response, 422)) == [("body", "payload")]
    response = await api.post("/v1/jobs", json={"kind": "noop", "queue": "a\u0000b"})
    assert _fields(_error(response, 422)) == [("body", "queue")]


async def test_unknown_ids_are_404(api: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/v1/jobs/999"),
        ("POST", "/v1/jobs/999/cancel"),
        ("POST", "/v1/jobs/999/retry"),
        ("DELETE", "/v1/jobs/999"),
        ("GET", "/v1/jobs/999/events"),
    ]:
        error = _error(await api.request(method, path), 404)
        assert error == {
            "code": "job_not_found",
            "message": "job 999 not found",
            "details": {"job_id": 999},
        }


async def test_ids_out_of_range_and_bad_cursors_are_invalid_input(api: httpx.AsyncClient) -> None:
    for path in ["/v1/jobs/0", "/v1/jobs/-3", f"/v1/jobs/{2**70}", "/v1/jobs/abc"]:
        assert _fields(_error(await api.get(path), 422)) == [("path", "job_id")], path
    for cursor in ["garbage!", "ai01", "ajk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"]:
        error = _error(await api.get("/v1/jobs", params={"cursor": cursor}), 422)
        assert _fields(error) == [(None, "cursor")], cursor
    params = {"limit": 0, "status": "lost", "created_after": "yesterday", "stauts": "failed"}
    error = _error(await api.get("/v1/jobs", params=params), 422)
    assert sorted(_fields(error)) == [
        ("query", "created_after"),
        ("query", "limit"),
        ("query", "status.0"),
        ("query", "stauts"),
    ]


async def test_unknown_routes_and_methods_use_the_envelope(api: httpx.AsyncClient) -> None:
    assert _error(await api.get("/v1/nothing"), 404)["code"] == "not_found"
    response = await api.put("/v1/jobs")
    assert _error(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


@pytest.fixture
async def small_bodies(
    start_server: StartServer, admin_key: str
) -> AsyncIterator[httpx.AsyncClient]:
    url = start_server(ApiOptions(max_body_bytes=1000))
    async with httpx.AsyncClient(base_url=url, headers=bearer(admin_key)) as client:
        yield client


async def test_bodies_over_the_limit_are_413_however_they_are_sent(
    small_bodies: httpx.AsyncClient,
) -> None:
    body = b'{"kind": "noop", "payload": {"x": "' + b"x" * 2000 + b'"}}'
    declared = await small_bodies.post(
        "/v1/jobs", content=body, headers={"content-type": "application/json"}
    )
    assert _error(declared, 413)["code"] == "request_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    # No Content-Length: the limit holds as the bytes arrive.
    streamed = await small_bodies.post(
        "/v1/jobs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert _error(streamed, 413)["code"] == "request_too_large"
    small = await small_bodies.post("/v1/jobs", json={"kind": "noop"})
    assert small.status_code == 202
