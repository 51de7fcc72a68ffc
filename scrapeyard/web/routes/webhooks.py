"""``/webhooks``: the subscriptions and the form for a new one; ``/webhooks/{id}``: one
subscription's deliveries with their attempts; delete and redeliver buttons (write keys).

A new subscription's signing secret is shown once, on the page the form leads to
(``reveal``), exactly as ``POST /v1/webhooks`` returns it once.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from scrapeyard import errors
from scrapeyard.api import deps
from scrapeyard.notify import events
from scrapeyard.queue import keys
from scrapeyard.queue.queries import MAX_ID
from scrapeyard.queue.schedules import ScheduleStore
from scrapeyard.queue.webhook_records import Webhook
from scrapeyard.queue.webhooks import WebhookStore
from scrapeyard.web import forms, rendering, reveal, routing, viewer, webhook_form
from scrapeyard.web.flash import Message
from scrapeyard.web.routes import session

router = APIRouter(route_class=routing.PageRoute)

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID)]
Before = Annotated[int | None, Query(ge=1, le=MAX_ID)]
PAGE_SIZE = 25
"""Deliveries per page of a subscription, newest first."""


async def _list_page(
    request: Request, res: deps.Resources, draft: webhook_form.Draft, status: int = 200
) -> Response:
    hooks = WebhookStore(res.store.db)
    found = await hooks.list_webhooks()
    latest = await hooks.latest_deliveries([hook.id for hook in found])
    job_ids = [hook.scope_id for hook in found if hook.scope == "job" and hook.scope_id]
    schedules = await ScheduleStore(res.store).list_schedules()
    return rendering.page(
        request,
        "webhooks.html",
        {
            "hooks": found,
            "latest": latest,
            "schedules": schedules,
            "schedule_names": {s.id: s.name for s in schedules},
            "jobs": await res.store.get_many(job_ids) if job_ids else {},
            "draft": draft,
            "sub": draft,
            "event_choices": webhook_form.EVENTS,
            "scopes": webhook_form.SCOPES,
        },
        status=status,
        active="/webhooks",
    )


@router.get("/webhooks")
async def webhooks_page(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    return await _list_page(request, res, webhook_form.Draft.blank())


@router.post("/webhooks")
async def subscribe(request: Request, res: deps.Res, user: viewer.Viewing) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    draft = webhook_form.Draft.of(form)
    made = await webhook_form.create(WebhookStore(res.store.db), draft)
    if made is None:
        return await _list_page(request, res, draft, status=422)
    hook, secret = made
    events.cache_for(res.store.db).invalidate()
    page = f"/webhooks/{hook.id}"
    text = f"Webhook {hook.id} created: {', '.join(hook.events)} go to {hook.url}."
    response = rendering.redirect(page, message=Message("ok", text))
    reveal.put(response, page, secret, key=user.csrf, secure=session.secure_transport(request))
    return response


async def _scope_name(res: deps.Resources, hook: Webhook) -> str | None:
    """The name of a schedule-scoped subscription's schedule (``None`` once it is gone)."""
    if hook.scope != "schedule" or hook.scope_id is None:
        return None
    try:
        return (await ScheduleStore(res.store).get(hook.scope_id)).name
    except errors.ScheduleNotFound:
        return None


@router.get("/webhooks/{webhook_id}")
async def webhook_page(
    request: Request,
    res: deps.Res,
    user: viewer.Viewing,
    webhook_id: WebhookId,
    before: Before = None,
) -> Response:
    hooks = WebhookStore(res.store.db)
    hook = await hooks.get(webhook_id)
    if hook is None:
        raise errors.WebhookNotFound(webhook_id)
    found = await hooks.deliveries(webhook_id, limit=PAGE_SIZE + 1, before=before)
    shown = found[:PAGE_SIZE]
    job = None
    if hook.scope == "job" and hook.scope_id is not None:
        job = (await res.store.get_many([hook.scope_id])).get(hook.scope_id)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    secret = reveal.waiting(request, key=user.csrf)
    response = rendering.page(
        request,
        "webhook.html",
        {
            "hook": hook,
            "deliveries": shown,
            "attempts": await hooks.attempts([d.id for d in shown]),
            "next_before": shown[-1].id if len(found) > PAGE_SIZE else None,
            "first_page": before is not None,
            "schedule_name": await _scope_name(res, hook),
            "job": job,
            "secret": secret,
            "here": here,
        },
        active="/webhooks",
    )
    reveal.clear(request, response, secure=session.secure_transport(request))
    return response


def _back(target: str, webhook_id: int) -> str:
    """This subscription's page (any page of its deliveries), or else its first page."""
    mine = f"/webhooks/{webhook_id}"
    target = routing.safe_next(target)
    return target if re.fullmatch(re.escape(mine) + r"(\?before=\d{1,19})?", target) else mine


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request,
    res: deps.Res,
    user: viewer.Viewing,
    webhook_id: WebhookId,
    delivery_id: DeliveryId,
) -> Response:
    form = await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    delivery = await WebhookStore(res.store.db).get_delivery(delivery_id)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise errors.DeliveryNotFound(delivery_id)
    if not await events.redeliver(res.store, delivery_id, res.settings.webhooks):
        raise errors.DeliveryNotFound(delivery_id)
    text = (
        f"Delivery {delivery_id} ({delivery.event}) queued to be sent again, with the same "
        "webhook-id and a fresh signature."
    )
    return rendering.redirect(_back(form.get("back"), webhook_id), message=Message("ok", text))


@router.post("/webhooks/{webhook_id}/delete")
async def delete(
    request: Request, res: deps.Res, user: viewer.Viewing, webhook_id: WebhookId
) -> Response:
    await forms.submitted(request, user)
    user.require(keys.Scope.WRITE)
    hooks = WebhookStore(res.store.db)
    hook = await hooks.get(webhook_id)
    if hook is None or not await hooks.delete(webhook_id):
        raise errors.WebhookNotFound(webhook_id)
    events.cache_for(res.store.db).invalidate()
    text = f"Webhook {webhook_id} deleted with its delivery log: nothing more goes to {hook.url}."
    return rendering.redirect("/webhooks", message=Message("ok", text))
