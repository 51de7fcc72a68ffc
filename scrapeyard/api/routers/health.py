"""``GET /healthz`` and ``GET /readyz``, without a key, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from scrapeyard import errors
from scrapeyard.api import schemas
from scrapeyard.api.deps import Store

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> schemas.Health:
    """200 while this process answers."""
    return schemas.Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness",
    responses={503: {"model": schemas.Readiness, "description": "Not ready: see `problems`."}},
)
async def readyz(store: Store) -> JSONResponse:
    """200 when the database answers; 503 with the reasons otherwise."""
    try:
        await store.db.ping()
    except errors.DatabaseError as exc:
        # Without a key, say what is wrong but not where the database is.
        problem = (type(exc).__doc__ or "the database failed").strip()
        body = schemas.Readiness(status="unavailable", problems=[problem])
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(schemas.Readiness(status="ready", problems=[]).model_dump())
