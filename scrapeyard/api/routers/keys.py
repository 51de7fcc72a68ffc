"""``/v1/keys``: the API key a request is made with. Keys are created with the CLI."""

from __future__ import annotations

from fastapi import APIRouter

from scrapeyard.api import errors, schemas
from scrapeyard.api.deps import ReadKey

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=errors.responses(401, 429, 503))


@router.get("/current", summary="The calling key")
async def current_key(key: ReadKey) -> schemas.KeyInfo:
    """Name, scope and expiry of the key this request was made with: a cheap way to
    check a key, and to learn what it may do."""
    return schemas.KeyInfo.of(key)
