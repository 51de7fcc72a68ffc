"""``/queues``: jobs per queue and status; pausing and resuming (admin keys)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scrapeyard.api import deps
from scrapeyard.queue import keys
from scrapeyard.queue.jobs import JobStatus
from scrapeyard.web import forms, rendering, routing, viewer
from scrapeyard.web.flash import Message

router = APIRouter(route_class=routing.PageRoute)


@router.get("/queues")
async def queues_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    return rendering.page(
        request,
        "queues.html",
        {"queues": await res.store.queues(), "statuses": [str(s) for s in JobStatus]},
        active="/queues",
    )


async def _set_paused(
    request: Request, res: deps.Resources, user: viewer.Viewer, name: str, paused: bool
) -> Response:
    await forms.submitted(request, user)
    user.require(keys.Scope.ADMIN)
    await res.store.set_paused(name, paused)
    text = (
        f"Queue {name} paused: workers claim nothing from it until it is resumed."
        if paused
        else f"Queue {name} resumed."
    )
    return rendering.redirect("/queues", message=Message("ok", text))


@router.post("/queues/{name:path}/pause")
async def pause(request: Request, res: deps.Res, user: viewer.Viewing, name: str) -> Response:
    return await _set_paused(request, res, user, name, True)


@router.post("/queues/{name:path}/resume")
async def resume(request: Request, res: deps.Res, user: viewer.Viewing, name: str) -> Response:
    return await _set_paused(request, res, user, name, False)
