"""Live pages: Server-Sent Events carrying re-rendered page sections.

A live page names its stream in ``<body data-live="...">``; the page script opens it
and, on each ``patch`` event (JSON: element id -> HTML), replaces those elements'
contents. A section is sent only when its HTML changed. The job stream ends with an
``end`` event once the job has finished (its last patch shows the final state).

Each stream looks again every ``interval`` seconds, re-checks the viewer's key every
``RECHECK`` seconds (a revoked key's stream sends ``logout`` and closes), sends a
comment line after ``HEARTBEAT`` seconds of silence so proxies keep it open, and ends
when the server shuts down (the app's stream gate closes). A database blip skips a
look rather than ending the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from scrapeyard import errors
from scrapeyard.api import deps

RECHECK = 5.0
HEARTBEAT = 15.0
RETRY_MS = 2000
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}

Render = Callable[[], Awaitable[tuple[dict[str, str], bool]]]
"""Renders the sections now; True when the stream should end after sending them."""
Recheck = Callable[[], Awaitable[bool]]
"""Whether the viewer's key still opens the dashboard."""


def event(name: str, data: Any) -> bytes:
    """One Server-Sent Event; JSON data has no raw newlines, so it fits one line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def sections(
    res: deps.Resources,
    render: Render,
    recheck: Recheck,
    *,
    interval: float,
) -> AsyncIterator[bytes]:
    sent: dict[str, str] = {}
    yield f"retry: {RETRY_MS}\n\n".encode()
    checked_at = silent_since = time.monotonic()
    while not res.gate.closed:
        try:
            rendered, finished = await render()
        except errors.DatabaseUnavailable:
            rendered, finished = {}, False
        changed = {key: html for key, html in rendered.items() if sent.get(key) != html}
        if changed:
            sent.update(changed)
            yield event("patch", changed)
            silent_since = time.monotonic()
        if finished:
            yield event("end", {})
            return
        now = time.monotonic()
        if now - checked_at >= RECHECK:
            checked_at = now
            try:
                allowed = await recheck()
            except errors.DatabaseUnavailable:
                allowed = True  # the key is judged again at the next look
            if not allowed:
                yield event("logout", {"login": "/login"})
                return
        if now - silent_since >= HEARTBEAT:
            yield b": keep-alive\n\n"
            silent_since = now
        await asyncio.sleep(interval)


def response(stream: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(stream, media_type="text/event-stream", headers=HEADERS)
