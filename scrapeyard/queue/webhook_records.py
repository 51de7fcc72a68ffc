"""What the webhook tables hold, as the rest of scrapeyard sees it: frozen records.

``queue.webhooks`` reads and writes them; ``notify`` and the API use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ScopeName = Literal["global", "schedule", "job"]
DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Webhook:
    """A subscription, as anyone may see it: everything but the secret."""

    id: int
    url: str
    events: tuple[str, ...]
    scope: ScopeName
    scope_id: int | None
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Webhook:
        return cls(
            id=row["id"],
            url=row["url"],
            events=tuple(row["events"]),
            scope=row["scope"],
            scope_id=row["scope_id"],
            description=row["description"],
            active=bool(row["active"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def wants(self, event: str) -> bool:
        return self.active and event in self.events

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "scope": self.scope,
            "scope_id": self.scope_id,
            "description": self.description,
            "active": self.active,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class Attempt:
    """One try at sending a delivery."""

    id: int
    delivery_id: int
    at: datetime
    status_code: int | None
    latency: float | None
    response: str | None
    """The first characters of the answer's body (bounded)."""
    error: str | None
    """Why no usable answer came: timeout, refused connection, blocked address, ..."""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Attempt:
        return cls(
            id=row["id"],
            delivery_id=row["delivery_id"],
            at=row["at"],
            status_code=row["status_code"],
            latency=row["latency"],
            response=row["response"],
            error=row["error"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": _iso(self.at),
            "status_code": self.status_code,
            "latency": self.latency,
            "response": self.response,
            "error": self.error,
        }


@dataclass(frozen=True)
class Delivery:
    """One event for one subscription, and where its sending stands."""

    id: int
    webhook_id: int
    event: str
    message_id: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    job_id: int | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Delivery:
        return cls(
            id=row["id"],
            webhook_id=row["webhook_id"],
            event=row["event"],
            message_id=row["message_id"],
            payload=row["payload"],
            status=row["status"],
            attempts=row["attempts"],
            job_id=row["job_id"],
            last_status=row["last_status"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            delivered_at=row["delivered_at"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event": self.event,
            "message_id": self.message_id,
            "payload": self.payload,
            "status": self.status,
            "attempts": self.attempts,
            "job_id": self.job_id,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "delivered_at": _iso(self.delivered_at),
        }


@dataclass(frozen=True)
class Target:
    """What sending a delivery needs: the delivery, its subscription's URL and secret."""

    delivery: Delivery
    url: str
    secret: str
    active: bool


@dataclass(frozen=True)
class Subscriptions:
    """Every active subscription a process needs to match events without a query:
    the global and schedule ones in full, and the ids of jobs that have their own."""

    broad: tuple[Webhook, ...]
    job_ids: frozenset[int]


@dataclass(frozen=True)
class NewDelivery:
    webhook_id: int
    event: str
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class AttemptRecord:
    """The outcome of one attempt, to be recorded with the delivery's new status."""

    status_code: int | None
    latency: float | None
    response: str | None
    error: str | None
    delivery_status: DeliveryStatus
