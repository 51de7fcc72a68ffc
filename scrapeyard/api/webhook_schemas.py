"""Request and response bodies of ``/v1/webhooks``: subscriptions, deliveries, attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from scrapeyard.api.schemas import MAX_JOB_ID, _Model, _storable
from scrapeyard.queue import webhook_records as webhooks

EventName = Literal[
    "job.started", "job.page", "job.succeeded", "job.failed", "schedule.fired", "dataset.changed"
]
Url = Annotated[
    str, Field(min_length=1, max_length=8192, pattern=r"^https?://"), AfterValidator(_storable)
]
ObjectId = Annotated[int, Field(ge=1, le=MAX_JOB_ID)]


class WebhookRequest(_Model):
    """A subscription to create: where to send which events, about what."""

    url: Url = Field(description="An http or https URL; it must pass the SSRF guard.")
    events: list[EventName] = Field(
        min_length=1, max_length=6, description="The events to send (at least one)."
    )
    job_id: ObjectId | None = Field(None, description="Only events about this job.")
    schedule_id: ObjectId | None = Field(
        None, description="Only events about this schedule and the jobs it fires."
    )
    description: (
        Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_storable)] | None
    ) = Field(None, description="What it is for.")


class Webhook(_Model):
    """A subscription (its secret is shown only when it is created)."""

    id: int = Field(description="The webhook's id.")
    url: str = Field(description="Where its events are POSTed.")
    events: list[str] = Field(description="The events it receives.")
    scope: Literal["global", "schedule", "job"] = Field(
        description="`global` (every job), `schedule` or `job`."
    )
    scope_id: int | None = Field(description="The schedule's or job's id.")
    description: str | None = Field(description="What it is for.")
    active: bool = Field(description="Whether events are sent to it.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")

    @classmethod
    def of(cls, hook: webhooks.Webhook) -> Webhook:
        return cls(
            id=hook.id,
            url=hook.url,
            events=list(hook.events),
            scope=hook.scope,
            scope_id=hook.scope_id,
            description=hook.description,
            active=hook.active,
            created_at=hook.created_at,
            updated_at=hook.updated_at,
        )


class NewWebhook(Webhook):
    """A subscription just created, with its signing secret: store it now."""

    secret: str = Field(
        description="`whsec_...`: verify deliveries with it (Standard Webhooks). Shown once."
    )


class WebhookList(_Model):
    """Subscriptions, oldest first."""

    webhooks: list[Webhook] = Field(description="The subscriptions.")


class Attempt(_Model):
    """One try at sending a delivery."""

    id: int = Field(description="The attempt's id.")
    at: datetime = Field(description="When it was made.")
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    latency: float | None = Field(description="Seconds until the answer (or the failure).")
    response: str | None = Field(description="The answer's first characters.")
    error: str | None = Field(description="Why there was no usable answer.")

    @classmethod
    def of(cls, attempt: webhooks.Attempt) -> Attempt:
        return cls(
            id=attempt.id,
            at=attempt.at,
            status_code=attempt.status_code,
            latency=attempt.latency,
            response=attempt.response,
            error=attempt.error,
        )


class Delivery(_Model):
    """One event for one subscription, with every attempt at sending it."""

    id: int = Field(description="The delivery's id.")
    webhook_id: int = Field(description="The subscription it goes to.")
    event: str = Field(description="The event, e.g. `job.failed`.")
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    status: Literal["pending", "retrying", "succeeded", "failed"] = Field(
        description="`pending` (not tried yet), `retrying` (a retry is scheduled), "
        "`succeeded` (a 2xx answer) or `failed` (retries used up, or refused for good)."
    )
    attempts: int = Field(description="Attempts made so far (redeliveries included).")
    job_id: int | None = Field(description="The `webhook.deliver` job sending it.")
    last_status: int | None = Field(description="The last attempt's HTTP status.")
    last_error: str | None = Field(description="The last attempt's error.")
    created_at: datetime = Field(description="When the event happened.")
    delivered_at: datetime | None = Field(description="When a 2xx answer came.")
    payload: dict[str, Any] = Field(description="The message body: `type`, `timestamp`, `data`.")
    attempt_log: list[Attempt] = Field(description="Every attempt, oldest first.")

    @classmethod
    def of(cls, delivery: webhooks.Delivery, attempts: list[webhooks.Attempt]) -> Delivery:
        return cls(
            id=delivery.id,
            webhook_id=delivery.webhook_id,
            event=delivery.event,
            message_id=delivery.message_id,
            status=delivery.status,
            attempts=delivery.attempts,
            job_id=delivery.job_id,
            last_status=delivery.last_status,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            payload=delivery.payload,
            attempt_log=[Attempt.of(a) for a in attempts],
        )


class DeliveryPage(_Model):
    """Deliveries, newest first."""

    deliveries: list[Delivery] = Field(description="The deliveries.")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )
