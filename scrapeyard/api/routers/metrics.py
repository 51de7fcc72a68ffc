"""``GET /metrics``: Prometheus text format, from the database at scrape time."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from scrapeyard.api import collector, errors
from scrapeyard.api.deps import MetricsReader, Store

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Metrics in the Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **errors.responses(401, 403, 429, 503),
    },
    # A key is optional: clients on this machine may scrape without one.
    openapi_extra={"security": [{}]},
)
async def metrics(_reader: MetricsReader, store: Store) -> Response:
    """Queue depth by queue and status, finished jobs by kind and outcome, a job
    duration histogram, and worker processes with their memory and heartbeat age.

    Needs a read key, except from loopback. Every API process gives the same figures.
    """
    snapshot = await collector.read_snapshot(store)
    return Response(collector.render(snapshot), media_type=collector.CONTENT_TYPE)
