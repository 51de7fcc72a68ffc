"""``/workers`` and ``/hosts``: read-only pages about the fleet."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scrapeyard.api import deps
from scrapeyard.queue import dashboard, hosts
from scrapeyard.queue.workers import WorkerState
from scrapeyard.web import overview, rendering, routing, viewer

router = APIRouter(route_class=routing.PageRoute)


@router.get("/workers")
async def workers_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    heartbeat = res.settings.queue.heartbeat_interval
    found = await res.workers.list(stale_after=3 * heartbeat)
    live = [w for w in found if w.state is not WorkerState.STOPPED]
    return rendering.page(
        request,
        "workers.html",
        {
            "workers": found,
            "running": await dashboard.running_by_worker(res.store.db),
            "live": len(live),
            "stale": sum(1 for w in found if w.stale),
            "hosts": sorted({w.host for w in live}),
            "heartbeat": heartbeat,
            "now": datetime.now(UTC),
        },
        active="/workers",
    )


@router.get("/hosts")
async def hosts_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    now = datetime.now(UTC)
    found = await hosts.overview(res.store.db)
    rules = await hosts.robots_for(res.store.db, [info.host for info in found])
    return rendering.page(
        request,
        "hosts.html",
        {
            "hosts": [(info, overview.needs_attention(info, now)) for info in found],
            "robots": [(info.host, rules[info.host]) for info in found if info.host in rules],
            "now": now,
        },
        active="/hosts",
    )
