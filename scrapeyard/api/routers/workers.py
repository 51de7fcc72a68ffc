"""``GET /v1/workers``: every worker process on every host, from its heartbeat row."""

from __future__ import annotations

from fastapi import APIRouter

from scrapeyard.api import errors, schemas
from scrapeyard.api.deps import ReadKey, Res, Workers

router = APIRouter(
    prefix="/v1/workers", tags=["workers"], responses=errors.responses(401, 403, 429, 503)
)


@router.get("", summary="List worker processes")
async def list_workers(_key: ReadKey, res: Res, registry: Workers) -> list[schemas.Worker]:
    """Worker processes, newest first, with memory, running jobs and heartbeat.

    A process that missed three heartbeats while not stopped is marked `stale`.
    """
    stale_after = 3 * res.settings.queue.heartbeat_interval
    return [schemas.Worker.of(info) for info in await registry.list(stale_after=stale_after)]
