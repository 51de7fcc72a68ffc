"""One-shot messages carried across a redirect ("Cancelled 3 jobs") in a short-lived cookie.

The text is plain (templates escape it) and goes no further than the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.responses import Response

COOKIE = "scrapeyard_flash"
MAX_TEXT = 500
Kind = Literal["ok", "warn", "error"]


@dataclass(frozen=True)
class Message:
    kind: Kind
    text: str


def put(response: Response, message: Message) -> None:
    data = json.dumps({"kind": message.kind, "text": message.text[:MAX_TEXT]}).encode()
    response.set_cookie(
        COOKIE,
        base64.urlsafe_b64encode(data).decode(),
        max_age=60,
        path="/",
        httponly=True,
        samesite="strict",
    )


def read(request: Request) -> Message | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict):
        return None
    kind, text = data.get("kind"), data.get("text")
    if kind not in ("ok", "warn", "error") or not isinstance(text, str):
        return None
    return Message(kind, text[:MAX_TEXT])


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
