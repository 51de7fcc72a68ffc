"""Turning templates into pages: the Jinja environment, its filters, and page responses.

Every page goes out with a strict Content-Security-Policy (scripts, styles and images
from this origin only; no inline script or style), and is never framed or cached.
Times are written as ``<time datetime="...">`` in UTC; a few lines of script show
them in the viewer's time zone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from scrapeyard import __version__
from scrapeyard.web import flash

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NAV = (
    ("/", "Overview"),
    ("/jobs", "Jobs"),
    ("/schedules", "Schedules"),
    ("/webhooks", "Webhooks"),
    ("/queues", "Queues"),
    ("/workers", "Workers"),
    ("/hosts", "Hosts"),
)


def when(value: datetime | None) -> Markup:
    """A ``<time>`` element in UTC; the page script shows it in local time."""
    if value is None:
        return Markup('<span class="muted">–</span>')
    value = value.astimezone(UTC)
    iso = value.isoformat(timespec="seconds").replace("+00:00", "Z")
    shown = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}">{}</time>').format(iso, shown)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in words short enough for a table cell."""
    if value is None:
        return "–"
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    return f"{duration(max(seconds, 0.0))} ago"


def duration(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 4 s``, ``2 h 5 min``."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def size(count: int | float | None) -> str:
    """Bytes for people: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if count is None:
        return "–"
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop returns at GiB


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def href(url: object) -> str:
    """A link target from stored data: only http(s) URLs; anything else goes nowhere."""
    text = str(url or "")
    return text if text.lower().startswith(("http://", "https://")) else "#"


def static(path: str) -> str:
    return f"/static/{path}?v={__version__}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scrapeyard.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        ago=ago,
        duration=duration,
        size=size,
        number=number,
        pretty_json=pretty_json,
        href=href,
    )
    env.globals.update(static=static, version=__version__, nav=NAV)
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    """A template (or a page section) rendered to HTML."""
    return environment().get_template(template).render(context)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    active: str | None = None,
) -> HTMLResponse:
    """A full page: the viewer (if any), the flash message, and the security headers."""
    message = flash.read(request)
    full = {
        "viewer": getattr(request.state, "viewer", None),
        "active": active,
        "flash": message,
        "live_url": None,
        **context,
    }
    response = HTMLResponse(render(template, full), status_code=status)
    response.headers.update(SECURITY_HEADERS)
    if message is not None:
        flash.clear(response)
    return response


def redirect(url: str, *, message: flash.Message | None = None) -> Response:
    """A 303 to ``url`` (after a form), optionally carrying a message for the next page."""
    response = RedirectResponse(url, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    if message is not None:
        flash.put(response, message)
    return response
