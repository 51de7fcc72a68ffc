"""Refusing request bodies over a size limit, counted as they arrive.

A declared ``Content-Length`` over the limit is refused at once, without reading
anything. Otherwise the bytes are counted as the application reads them, so a body
sent in chunks, or with a ``Content-Length`` that lies, is cut off at the limit too:
the read raises a 413 that the error handler turns into the usual envelope.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrapeyard.api import errors


class BodyLimit:
    """ASGI middleware: no request body larger than ``max_bytes`` gets through
    (``larger`` gives paths that take more, such as file uploads, their own limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] = {}) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger)

    def _too_large(self, limit: int) -> str:
        return f"the request body is larger than the limit of {limit:,} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = errors.envelope(
                413, "request_too_large", self._too_large(limit), headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, self._too_large(limit))
            return message

        await self.app(scope, counted, send)
