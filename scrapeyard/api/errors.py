"""Every failure leaves the API in one envelope: ``{"error": {"code", "message", "details"}}``.

One table maps scrapeyard's error tree to HTTP statuses; FastAPI's validation errors and
Starlette's HTTP errors (unknown route, wrong method, body too large) are rewritten into
the same shape, with the path of every offending field. Anything unexpected is a 500
whose message gives nothing away; the traceback goes to the log.

Requests refused before any work is done raise ``errors.RequestRefused`` subclasses
(``NotAuthenticated``, ``NotPermitted``, ``RateLimited``), which the client raises too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from scrapeyard import errors
from scrapeyard.api import schemas

log = logging.getLogger("scrapeyard.api")

DATABASE_RETRY_AFTER = 5
"""Seconds a client is told to wait when the database is unreachable."""


# Most specific first: the first class in an error's MRO found here decides.
_STATUS: Mapping[type[errors.ScrapeyardError], tuple[int, str]] = {
    errors.NotAuthenticated: (401, "not_authenticated"),
    errors.NotPermitted: (403, "not_permitted"),
    errors.RateLimited: (429, "rate_limited"),
    errors.UnknownKind: (422, "unknown_kind"),
    errors.InvalidInput: (422, "invalid_input"),
    errors.JobNotFound: (404, "job_not_found"),
    errors.InvalidTransition: (409, "invalid_transition"),
    errors.ScheduleNotFound: (404, "schedule_not_found"),
    errors.ScheduleConflict: (409, "schedule_conflict"),
    errors.WebhookNotFound: (404, "webhook_not_found"),
    errors.DeliveryNotFound: (404, "delivery_not_found"),
    errors.QueueError: (409, "conflict"),
    errors.DatasetNotFound: (404, "dataset_not_found"),
    errors.DatasetConflict: (409, "dataset_conflict"),
    errors.DatabaseUnavailable: (503, "database_unavailable"),
    errors.SchemaOutOfDate: (503, "schema_out_of_date"),
    errors.DatabaseError: (503, "database_error"),
}

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}

_ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
_DESCRIPTIONS = {
    400: "The body could not be read at all (e.g. it is not UTF-8).",
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The API key's scope does not allow this operation.",
    404: "No job (or other resource) with that id.",
    409: "The job's status does not allow this operation (e.g. cancelling a finished job).",
    413: "The request body is larger than the limit.",
    422: "The request is invalid; `details.fields` names each offending field.",
    429: "Too many requests with this key; the `Retry-After` header says when to retry.",
    503: "The database cannot be reached; retry after the `Retry-After` seconds.",
}


def responses(*statuses: int, by_reference: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an operation can answer with.

    ``by_reference`` is for operations whose own answer is not JSON (an event stream):
    FastAPI would file their errors under that media type, but errors are JSON. They
    refer to the envelope's schema, which the JSON operations register.
    """
    if by_reference:
        content = {"application/json": {"schema": {"$ref": _ENVELOPE_REF}}}
        return {
            status: {"description": _DESCRIPTIONS[status], "content": content}
            for status in statuses
        }
    return {
        status: {"model": schemas.ErrorEnvelope, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def envelope(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error response every failure of the API takes the shape of."""
    body = {"error": {"code": code, "message": message, "details": dict(details or {})}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def status_of(exc: errors.ScrapeyardError) -> tuple[int, str]:
    """The HTTP status and error code for one of our errors."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500, "internal_error"


def _details(exc: errors.ScrapeyardError) -> dict[str, Any]:
    if isinstance(exc, errors.InvalidInput):
        return {"fields": [{"location": None, "field": exc.field, "message": exc.problem}]}
    if isinstance(exc, errors.JobNotFound):
        return {"job_id": exc.job_id}
    if isinstance(exc, errors.DatasetNotFound):
        return {"dataset": exc.name}
    if isinstance(exc, errors.InvalidTransition):
        return {"job_id": exc.job_id, "status": exc.status, "action": exc.action}
    if isinstance(exc, errors.RateLimited):
        return {"retry_after": exc.retry_after}
    if isinstance(exc, errors.NotPermitted):
        return {"needed_scope": exc.needed, "key_scope": exc.held}
    return {}


def _headers(exc: errors.ScrapeyardError) -> dict[str, str]:
    if isinstance(exc, errors.NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, errors.RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, errors.DatabaseError):
        return {"Retry-After": str(DATABASE_RETRY_AFTER)}
    return {}


async def _scrapeyard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.ScrapeyardError)
    status, code = status_of(exc)
    if status == 500:
        log.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
        return envelope(500, "internal_error", "internal error; the server log has the details")
    return envelope(status, code, exc.message, _details(exc), _headers(exc))


def field_errors(problems: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's error list as ``{"location", "field", "message"}`` entries."""
    fields = []
    for problem in problems:
        loc = [str(part) for part in problem.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header") else None
        rest = loc[1:] if location else loc
        if problem.get("type") == "json_invalid":
            reason = (problem.get("ctx") or {}).get("error", "invalid JSON")
            at = f" at character {rest[0]}" if rest else ""
            fields.append({"location": location, "field": "", "message": f"{reason}{at}"})
            continue
        fields.append({"location": location, "field": ".".join(rest), "message": problem["msg"]})
    return fields


def _where(field: Mapping[str, Any]) -> str:
    return ".".join(part for part in (field["location"], field["field"]) if part) or "request"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = field_errors(exc.errors())
    summary = "; ".join(f"{_where(field)}: {field['message']}" for field in fields[:3])
    if len(fields) > 3:
        summary += f"; and {len(fields) - 3} more"
    return envelope(422, "invalid_input", summary or "invalid request", {"fields": fields})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    if exc.status_code == 404:
        message = f"nothing here: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return envelope(exc.status_code, code, message, headers=exc.headers)


async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response, so the server logs it.
    return envelope(500, "internal_error", "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Make every error ``app`` answers with take the envelope's shape."""
    app.add_exception_handler(errors.ScrapeyardError, _scrapeyard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
