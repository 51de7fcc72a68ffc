"""``/``: the overview, and ``/events``, its live updates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scrapeyard.api import deps
from scrapeyard.web import live, overview, rendering, routing, sessions, viewer

router = APIRouter(route_class=routing.PageRoute)

INTERVAL = 2.0
"""Seconds between two looks of the overview's live stream."""


@router.get("/")
async def overview_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    ov = await overview.gather(res)
    return rendering.page(
        request,
        "overview.html",
        {"ov": ov, "sections": overview.SECTIONS, "live_url": "/events"},
        active="/",
    )


@router.get("/events")
async def overview_events(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    cookie = request.cookies.get(sessions.COOKIE)

    async def render() -> tuple[dict[str, str], bool]:
        return overview.sections(await overview.gather(res), user), False

    async def recheck() -> bool:
        return await viewer.identify(res, cookie) is not None

    return live.response(live.sections(res, render, recheck, interval=INTERVAL))
