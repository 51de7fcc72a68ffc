"""A Python client for the scrapeyard HTTP API, for scripts on any machine.

    import scrapeyard

    async with scrapeyard.Client("http://127.0.0.1:8000", api_key) as client:
        job = await client.enqueue("noop", {"hello": "world"})
        done = await client.wait(job["id"], timeout=60)
        print(done["status"], done["result"])

    with scrapeyard.SyncClient("http://127.0.0.1:8000", api_key) as client:
        print(client.queues())

Responses are the API's JSON (see ``/docs``) as dicts. Errors from the API's envelope
come back as scrapeyard's errors: ``InvalidInput`` (422), ``JobNotFound`` (404),
``InvalidTransition`` (409), ``NotAuthenticated`` (401), ``NotPermitted`` (403),
``RateLimited`` (429), ``DatabaseUnavailable`` (503); anything else as ``ApiError``
with the status, code and details. No answer at all is ``ApiUnreachable``. The client
talks HTTP only and knows nothing of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
import orjson

from scrapeyard import errors

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
"""Statuses a job stays in unless someone retries it."""
STREAM_READ_TIMEOUT = 60.0
"""An event stream with no byte for this long is dead (the server sends heartbeats)."""


class ApiError(errors.ScrapeyardError):
    """The API refused the request for a reason scrapeyard's errors have no class for."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any]) -> None:
        self.status = status
        self.code = code
        self.details = dict(details)
        super().__init__(message)


class ApiUnreachable(errors.ScrapeyardError):
    """No answer from the API: it is down, or the address is wrong."""


@dataclass(frozen=True)
class ServerEvent:
    """One Server-Sent Event: its type, its data (JSON text) and its id, if any."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        return orjson.loads(self.data)


def _first_field(details: Mapping[str, Any]) -> tuple[str, str | None]:
    fields = details.get("fields") or [{}]
    first = fields[0] if isinstance(fields[0], dict) else {}
    where = ".".join(str(part) for part in (first.get("location"), first.get("field")) if part)
    return where or "request", first.get("message")


def error_from(response: httpx.Response) -> errors.ScrapeyardError:
    """The scrapeyard error an API error response stands for."""
    try:
        body = response.json()["error"]
        code, message = str(body["code"]), str(body["message"])
        details: dict[str, Any] = body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = f"http_{response.status_code}", response.reason_phrase, {}
    if code in ("invalid_input", "unknown_kind"):
        field, problem = _first_field(details)
        return errors.InvalidInput(field, problem or message)
    if code == "job_not_found" and "job_id" in details:
        return errors.JobNotFound(int(details["job_id"]))
    if code == "invalid_transition" and "job_id" in details:
        return errors.InvalidTransition(
            int(details["job_id"]), str(details.get("status")), str(details.get("action"))
        )
    if code == "schema_out_of_date":
        return errors.SchemaOutOfDate(message)
    if code.startswith("database_"):
        return errors.DatabaseUnavailable(message)
    if code == "rate_limited":
        return errors.RateLimited(float(details.get("retry_after", 1)))
    if code == "not_authenticated":
        return errors.NotAuthenticated(message)
    if code == "not_permitted":
        return errors.NotPermitted(str(details.get("needed_scope")), str(details.get("key_scope")))
    return ApiError(response.status_code, code, message, details)


async def _parse_events(lines: AsyncIterator[str]) -> AsyncIterator[ServerEvent]:
    """Server-Sent Events from the lines of a ``text/event-stream``."""
    event, last_id = "message", None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield ServerEvent(event, "\n".join(data), last_id)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue  # a comment: the server's heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value


def _time(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class Client:
    """An async client for one scrapeyard API and one API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        poll_interval: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": "scrapeyard-client"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url.rstrip("/")
        self.poll_interval = poll_interval
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            response = await self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"no answer from {self.base_url}: {exc!r}") from exc
        if response.is_error:
            raise error_from(response)
        return None if response.status_code == 204 else response.json()

    # -- jobs --------------------------------------------------------------------------

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int | None = None,
        delay: float | None = None,
        run_at: datetime | None = None,
        unique_key: str | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        depends_on: list[int] | None = None,
    ) -> dict[str, Any]:
        """Enqueue a job of a registered kind; the job as the API accepted it."""
        options = {
            "queue": queue,
            "priority": priority,
            "delay": delay,
            "run_at": _time(run_at),
            "unique_key": unique_key,
            "max_attempts": max_attempts,
            "timeout": timeout,
            "depends_on": depends_on,
        }
        body: dict[str, Any] = {"kind": kind, "payload": dict(payload or {})}
        body.update({name: value for name, value in options.items() if value is not None})
        job: dict[str, Any] = await self._request("POST", "/v1/jobs", json=body)
        return job

    async def chain(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Enqueue jobs that run one after another; each step is ``{"kind", "payload",
        ...}`` as for ``enqueue``. The jobs, first to last."""
        jobs: list[dict[str, Any]] = await self._request(
            "POST", "/v1/jobs/chain", json={"jobs": steps}
        )
        return jobs

    async def get_job(self, job_id: int) -> dict[str, Any]:
        """One job with its result and history."""
        job: dict[str, Any] = await self._request("GET", f"/v1/jobs/{job_id}")
        return job

    async def list_jobs(
        self,
        *,
        status: str | list[str] | None = None,
        kind: str | None = None,
        queue: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """A page of jobs, newest first: ``{"jobs": [...], "next_cursor": ...}``."""
        params = {
            "status": [status] if isinstance(status, str) else status,
            "kind": kind,
            "queue": queue,
            "created_after": _time(created_after),
            "created_before": _time(created_before),
            "limit": limit,
            "cursor": cursor,
        }
        page: dict[str, Any] = await self._request(
            "GET", "/v1/jobs", params={k: v for k, v in params.items() if v is not None}
        )
        return page

    async def iter_jobs(self, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        """Every job matching ``filters`` (those of ``list_jobs``), page after page."""
        cursor = filters.pop("cursor", None)
        while True:
            page = await self.list_jobs(cursor=cursor, **filters)
            for job in page["jobs"]:
                yield job
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def cancel(self, job_id: int) -> dict[str, Any]:
        """Cancel a job (a running one stops within a heartbeat)."""
        job: dict[str, Any] = await self._request("POST", f"/v1/jobs/{job_id}/cancel")
        return job

    async def retry(self, job_id: int) -> dict[str, Any]:
        """Queue a failed or cancelled job again."""
        job: dict[str, Any] = await self._request("POST", f"/v1/jobs/{job_id}/retry")
        return job

    async def delete(self, job_id: int) -> None:
        """Delete a job that is not running, with its history."""
        await self._request("DELETE", f"/v1/jobs/{job_id}")

    async def events(
        self, job_id: int, *, last_event_id: str | None = None
    ) -> AsyncGenerator[ServerEvent, None]:
        """The job's live events (``job``, ``history``, then ``end``), as the API sends them."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        timeout = httpx.Timeout(self._timeout, read=STREAM_READ_TIMEOUT)
        try:
            async with self._http.stream(
                "GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=timeout
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise error_from(response)
                async for event in _parse_events(response.aiter_lines()):
                    yield event
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"event stream from {self.base_url} broke: {exc!r}") from exc

    async def wait(self, job_id: int, *, timeout: float | None = None) -> dict[str, Any]:
        """Follow the job until it finishes; the finished job, with its result.

        Follows the event stream; if the stream breaks it looks at the job, waits
        ``poll_interval`` and follows again, so a restart of the API only delays the
        answer. ``TimeoutError`` after ``timeout`` seconds.
        """
        last_id: str | None = None
        async with asyncio.timeout(timeout):
            while True:
                try:
                    async with contextlib.aclosing(
                        self.events(job_id, last_event_id=last_id)
                    ) as stream:
                        async for event in stream:
                            last_id = event.id or last_id
                            if event.event == "end":
                                return await self.get_job(job_id)
                            if event.event == "deleted":
                                raise errors.JobNotFound(job_id)
                    job = await self.get_job(job_id)
                    if job["status"] in FINISHED:
                        return job
                except ApiUnreachable:
                    pass
                await asyncio.sleep(self.poll_interval)

    # -- crawling ----------------------------------------------------------------------

    async def scrape(self, url: str, *, wait: float = 30.0, **options: Any) -> dict[str, Any]:
        """Scrape one page: ``{"job", "record"}``, or ``{"job", "status_url", ...}`` if it
        did not finish within ``wait`` seconds (then ``wait_for`` the job).

        ``options`` are the API's (``formats``, ``selectors``, ``timeout``, ...).
        """
        answer: dict[str, Any] = await self._request(
            "POST", "/v1/scrape", json={"url": url, "wait": wait, **options}
        )
        return answer

    async def batch_scrape(self, urls: list[str], **options: Any) -> dict[str, Any]:
        """Scrape many pages as one job: ``{"job", "status_url", "results_url", ...}``."""
        started: dict[str, Any] = await self._request(
            "POST", "/v1/batch/scrape", json={"urls": urls, **options}
        )
        return started

    async def crawl(self, url: str | list[str], **options: Any) -> dict[str, Any]:
        """Start a crawl: ``{"job", "status_url", "events_url", "results_url"}``.

        ``options`` are the API's (``max_pages``, ``include_paths``, ``selectors``, ...).
        """
        start = {"urls": url} if isinstance(url, list) else {"url": url}
        started: dict[str, Any] = await self._request(
            "POST", "/v1/crawl", json={**start, **options}
        )
        return started

    async def map(self, url: str, *, wait: float = 30.0, **options: Any) -> dict[str, Any]:
        """A site's URLs: ``{"job", "urls"}`` (or the started job, if not done in time)."""
        answer: dict[str, Any] = await self._request(
            "POST", "/v1/map", json={"url": url, "wait": wait, **options}
        )
        return answer

    async def results(
        self, job_id: int, *, errors_only: bool = False, page_size: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a job (or every failed page, with ``errors_only``), in order."""
        path = f"/v1/jobs/{job_id}/{'errors' if errors_only else 'results'}"
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if cursor is not None:
                params["cursor"] = cursor
            page = await self._request("GET", path, params=params)
            for record in page["records"]:
                yield record
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def export(
        self, job_id: int, path: str, *, format: str = "jsonl", include: str = "pages"
    ) -> int:
        """Download a job's records to the file ``path`` (streamed); bytes written."""
        written = 0
        try:
            async with self._http.stream(
                "GET",
                f"/v1/jobs/{job_id}/export",
                params={"format": format, "include": include},
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise error_from(response)
                with open(path, "wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        written += len(chunk)
        except httpx.TransportError as exc:
            raise ApiUnreachable(f"export from {self.base_url} broke: {exc!r}") from exc
        return written

    async def hosts(self) -> list[dict[str, Any]]:
        """Every host crawls touched: rate limit, circuit, backlog."""
        answer: dict[str, Any] = await self._request("GET", "/v1/hosts")
        hosts: list[dict[str, Any]] = answer["hosts"]
        return hosts

    # -- queues and workers ------------------------------------------------------------

    async def queues(self) -> list[dict[str, Any]]:
        """Every queue with its jobs by status and whether it is paused."""
        found: list[dict[str, Any]] = await self._request("GET", "/v1/queues")
        return found

    async def pause(self, queue: str) -> dict[str, Any]:
        """Stop workers claiming from ``queue`` (needs an admin key)."""
        paused: dict[str, Any] = await self._request("POST", f"/v1/queues/{queue}/pause")
        return paused

    async def resume(self, queue: str) -> dict[str, Any]:
        """Let workers claim from ``queue`` again (needs an admin key)."""
        resumed: dict[str, Any] = await self._request("POST", f"/v1/queues/{queue}/resume")
        return resumed

    async def workers(self) -> list[dict[str, Any]]:
        """Every worker process on every host, from its heartbeat."""
        found: list[dict[str, Any]] = await self._request("GET", "/v1/workers")
        return found


class SyncClient:
    """``Client``'s methods, blocking: each call runs on a private event loop.

    Async iterators (``iter_jobs``, ``events``) become plain iterators. One
    ``SyncClient`` belongs to one thread.
    """

    def __init__(self, base_url: str, api_key: str | None = None, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = Client(base_url, api_key, **options)

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._client, name)
        if inspect.isasyncgenfunction(method):
            return functools.wraps(method)(lambda *a, **kw: self._iterate(method(*a, **kw)))
        if inspect.iscoroutinefunction(method):
            return functools.wraps(method)(lambda *a, **kw: self._runner.run(method(*a, **kw)))
        return method

    def _iterate(self, items: AsyncIterator[Any]) -> Iterator[Any]:
        async def step() -> Any:
            return await anext(items)

        while True:
            try:
                yield self._runner.run(step())
            except StopAsyncIteration:
                return
