"""``/v1/webhooks``: subscribe URLs to events, see every delivery and attempt, redeliver.

Deliveries are signed following the Standard Webhooks specification with the secret
that creating a subscription returns, once. Sending happens in workers
(``webhook.deliver`` jobs), retried for about a day.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from scrapeyard import errors as core_errors
from scrapeyard.api import errors, webhook_schemas
from scrapeyard.api.deps import ReadKey, Res, Store, WriteKey
from scrapeyard.notify import events, signing
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.webhook_records import ScopeName
from scrapeyard.queue.webhooks import WebhookStore

router = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], responses=errors.responses(401, 403, 422, 429, 503)
)
WebhookId = Annotated[int, Path(ge=1, le=webhook_schemas.MAX_JOB_ID, description="The webhook.")]
DeliveryId = Annotated[int, Path(ge=1, le=webhook_schemas.MAX_JOB_ID, description="The delivery.")]


@router.post(
    "", status_code=201, summary="Subscribe a URL", responses=errors.responses(400, 404, 413)
)
async def create(
    _key: WriteKey, store: Store, request: webhook_schemas.WebhookRequest
) -> webhook_schemas.NewWebhook:
    """Send the events named to `url`: about every job (no scope), one schedule
    (`schedule_id`) or one job (`job_id`). The answer holds the signing secret, which
    is never shown again."""
    hooks = WebhookStore(store.db)
    scope: ScopeName = "global"
    scope_id = None
    if request.job_id is not None and request.schedule_id is not None:
        raise core_errors.InvalidInput("job_id", "give job_id or schedule_id, not both")
    if request.job_id is not None:
        if not await hooks.job_exists(request.job_id):
            raise core_errors.JobNotFound(request.job_id)
        scope, scope_id = "job", request.job_id
    elif request.schedule_id is not None:
        if not await hooks.schedule_exists(request.schedule_id):
            raise core_errors.InvalidInput("schedule_id", f"no schedule {request.schedule_id}")
        scope, scope_id = "schedule", request.schedule_id
    secret = signing.new_secret()
    made = await hooks.create(
        request.url,
        events.check_events(request.events),
        secret,
        scope=scope,
        scope_id=scope_id,
        description=request.description,
    )
    events.cache_for(store.db).invalidate()
    return webhook_schemas.NewWebhook(
        **webhook_schemas.Webhook.of(made).model_dump(), secret=secret
    )


@router.get("", summary="List subscriptions")
async def list_webhooks(
    _key: ReadKey,
    store: Store,
    job_id: Annotated[
        int | None, Query(ge=1, le=webhook_schemas.MAX_JOB_ID, description="Only this job's.")
    ] = None,
    schedule_id: Annotated[
        int | None,
        Query(ge=1, le=webhook_schemas.MAX_JOB_ID, description="Only this schedule's."),
    ] = None,
) -> webhook_schemas.WebhookList:
    """Every subscription, oldest first (never their secrets)."""
    scope: ScopeName | None = None
    scope_id = None
    if job_id is not None:
        scope, scope_id = "job", job_id
    elif schedule_id is not None:
        scope, scope_id = "schedule", schedule_id
    found = await WebhookStore(store.db).list_webhooks(scope=scope, scope_id=scope_id)
    return webhook_schemas.WebhookList(webhooks=[webhook_schemas.Webhook.of(h) for h in found])


@router.get("/{webhook_id}", summary="Get a subscription", responses=errors.responses(404))
async def get_webhook(
    _key: ReadKey, store: Store, webhook_id: WebhookId
) -> webhook_schemas.Webhook:
    """A subscription: its URL, events and scope (never its secret)."""
    found = await WebhookStore(store.db).get(webhook_id)
    if found is None:
        raise core_errors.WebhookNotFound(webhook_id)
    return webhook_schemas.Webhook.of(found)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    summary="Remove a subscription",
    responses=errors.responses(404),
)
async def delete_webhook(_key: WriteKey, store: Store, webhook_id: WebhookId) -> Response:
    """Remove a subscription with its deliveries; nothing more is sent to it."""
    if not await WebhookStore(store.db).delete(webhook_id):
        raise core_errors.WebhookNotFound(webhook_id)
    events.cache_for(store.db).invalidate()
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    summary="A subscription's deliveries",
    responses=errors.responses(404),
)
async def deliveries(
    _key: ReadKey,
    store: Store,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=500, description="Deliveries per page.")] = 50,
    before: Annotated[
        int | None,
        Query(ge=1, le=webhook_schemas.MAX_JOB_ID, description="Only deliveries older than this."),
    ] = None,
) -> webhook_schemas.DeliveryPage:
    """Deliveries newest first, each with every attempt: status, latency, the answer's
    first characters or the error."""
    hooks = WebhookStore(store.db)
    if await hooks.get(webhook_id) is None:
        raise core_errors.WebhookNotFound(webhook_id)
    found = await hooks.deliveries(webhook_id, limit=limit, before=before)
    attempts = await hooks.attempts([d.id for d in found])
    return webhook_schemas.DeliveryPage(
        deliveries=[webhook_schemas.Delivery.of(d, attempts[d.id]) for d in found],
        next_before=found[-1].id if len(found) == limit else None,
    )


async def _delivery(store: JobStore, delivery_id: int) -> webhook_schemas.Delivery:
    hooks = WebhookStore(store.db)
    found = await hooks.get_delivery(delivery_id)
    if found is None:
        raise core_errors.DeliveryNotFound(delivery_id)
    return webhook_schemas.Delivery.of(found, (await hooks.attempts([delivery_id]))[delivery_id])


@router.get("/deliveries/{delivery_id}", summary="Get a delivery", responses=errors.responses(404))
async def get_delivery(
    _key: ReadKey, store: Store, delivery_id: DeliveryId
) -> webhook_schemas.Delivery:
    """A delivery with its message and every attempt at sending it."""
    return await _delivery(store, delivery_id)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again",
    responses=errors.responses(404),
)
async def redeliver(
    _key: WriteKey, res: Res, store: Store, delivery_id: DeliveryId
) -> webhook_schemas.Delivery:
    """Queue the same message (same `webhook-id`, fresh signature) for sending again,
    with a fresh retry schedule; its earlier attempts stay in the log."""
    if not await events.redeliver(store, delivery_id, res.settings.webhooks):
        raise core_errors.DeliveryNotFound(delivery_id)
    return await _delivery(store, delivery_id)
