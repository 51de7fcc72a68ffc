"""Reading submitted forms, and refusing any that lacks the session's CSRF token.

Forms are ``application/x-www-form-urlencoded`` (the dashboard uploads no files), read
with the standard library. Every state-changing route calls ``submitted``, which
refuses a request whose ``csrf`` field (or ``X-CSRF-Token`` header) does not match the
viewer's session: a forged cross-site POST has no way to learn the token.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi import Request

from scrapeyard.web import sessions
from scrapeyard.web.viewer import Viewer

MAX_FIELDS = 2000
FIELD = "csrf"
HEADER = "x-csrf-token"


class CsrfRefused(Exception):
    """The form did not carry this session's CSRF token."""


@dataclass(frozen=True)
class Form:
    """Submitted fields; a field may repeat (checkboxes)."""

    fields: Mapping[str, Sequence[str]]

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))

    def has(self, name: str) -> bool:
        return name in self.fields


async def read(request: Request) -> Form:
    """The fields of a urlencoded body; any other body counts as an empty form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return Form({})
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: dict[str, list[str]] = {}
    try:
        pairs = urllib.parse.parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return Form({})
    for name, value in pairs:
        fields.setdefault(name, []).append(value.replace("\x00", ""))
    return Form(fields)


async def submitted(request: Request, viewer: Viewer) -> Form:
    """The form of a state-changing request, once its CSRF token has been checked."""
    form = await read(request)
    sent = form.get(FIELD) or request.headers.get(HEADER, "")
    if not sent or not sessions.csrf_matches(sent, viewer.csrf):
        raise CsrfRefused()
    return form
