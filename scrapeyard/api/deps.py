"""What routes receive through ``Depends``: the resources the app opened, and the caller's key.

``create_app`` builds one ``Resources`` in its lifespan and keeps it on ``app.state``;
routes never reach for it themselves. Tests can swap any of these functions with
``app.dependency_overrides``.

Scopes are stated in the route's signature::

    async def cancel(job_id: JobIdPath, store: Store, _key: WriteKey) -> schemas.Job: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials

from scrapeyard import config
from scrapeyard import errors as core_errors
from scrapeyard.api import auth, schemas, streams
from scrapeyard.api.options import ApiOptions
from scrapeyard.api.ratelimit import RateLimiter
from scrapeyard.queue import keys
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.workers import WorkerRegistry


@dataclass(frozen=True)
class Resources:
    """Everything the API's routes use, opened once per process by the lifespan."""

    settings: config.Settings
    options: ApiOptions
    store: JobStore
    keys: keys.KeyStore
    workers: WorkerRegistry
    limiter: RateLimiter
    gate: streams.StreamGate


def resources(request: Request) -> Resources:
    """The resources the lifespan opened for this app."""
    return cast(Resources, request.app.state.resources)


def _store(res: Annotated[Resources, Depends(resources)]) -> JobStore:
    return res.store


def _workers(res: Annotated[Resources, Depends(resources)]) -> WorkerRegistry:
    return res.workers


Res = Annotated[Resources, Depends(resources)]
Store = Annotated[JobStore, Depends(_store)]
Workers = Annotated[WorkerRegistry, Depends(_workers)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)]
JobIdPath = Annotated[int, Path(ge=1, le=schemas.MAX_JOB_ID, description="The job's id.")]


async def _authorized(res: Resources, credentials: HTTPAuthorizationCredentials) -> keys.ApiKey:
    key = await auth.check(res.keys, credentials.credentials)
    wait = res.limiter.check(key.id)
    if wait > 0:
        raise core_errors.RateLimited(wait)
    return key


def require(scope: keys.Scope) -> Callable[..., Awaitable[keys.ApiKey]]:
    """A dependency that lets a request through with a key of ``scope`` or wider.

    Order of refusals: no or bad key (401), too many requests (429), scope too
    narrow (403).
    """

    async def key_with_scope(res: Res, credentials: Credentials) -> keys.ApiKey:
        if credentials is None:
            raise core_errors.NotAuthenticated()
        key = await _authorized(res, credentials)
        auth.permit(key, scope)
        return key

    key_with_scope.__name__ = f"{scope}_key"
    return key_with_scope


async def _metrics_reader(request: Request, res: Res, credentials: Credentials) -> None:
    """A read key, or none at all from this machine (when the options allow it)."""
    if credentials is None:
        client = request.client.host if request.client else None
        if res.options.metrics_from_loopback and auth.is_loopback(client):
            return
        raise core_errors.NotAuthenticated()
    key = await _authorized(res, credentials)
    auth.permit(key, keys.Scope.READ)


ReadKey = Annotated[keys.ApiKey, Depends(require(keys.Scope.READ))]
WriteKey = Annotated[keys.ApiKey, Depends(require(keys.Scope.WRITE))]
AdminKey = Annotated[keys.ApiKey, Depends(require(keys.Scope.ADMIN))]
MetricsReader = Annotated[None, Depends(_metrics_reader)]
