"""Webhook subscriptions, their deliveries, and every attempt at one: the SQL side.

A subscription (``webhooks``) names a URL, the events it wants and its scope: every
job (``global``), the jobs and fires of one schedule (``schedule``), or one job
(``job``). Each event that matches becomes a delivery (``webhook_deliveries``: the
signed message's id, its body, where it stands), and each try at sending it an attempt
(``webhook_attempts``: HTTP status, latency, an excerpt of the answer, or the error).

The secret is kept in clear because signing needs it; it leaves the database only to
sign, and once in the answer that creates it. ``Webhook`` never carries it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import (
    jobs,
    schedule_fires,
    schedules,
    webhook_attempts,
    webhook_deliveries,
    webhooks,
)
from scrapeyard.queue.webhook_records import (
    Attempt,
    AttemptRecord,
    Delivery,
    NewDelivery,
    ScopeName,
    Subscriptions,
    Target,
    Webhook,
)

_ACTIVE = webhooks.c.active.is_(True)


class WebhookStore:
    """Every statement about webhooks, on one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- subscriptions -------------------------------------------------------------------

    async def create(
        self,
        url: str,
        events: Sequence[str],
        secret: str,
        *,
        scope: ScopeName = "global",
        scope_id: int | None = None,
        description: str | None = None,
        conn: AsyncConnection | None = None,
    ) -> Webhook:
        """A new active subscription (arguments are validated by the caller)."""
        stmt = (
            sa.insert(webhooks)
            .values(
                url=url,
                secret=secret,
                events=list(events),
                scope=scope,
                scope_id=scope_id,
                description=description,
                active=True,
                created_at=now(),
                updated_at=now(),
            )
            .returning(*webhooks.c)
        )
        if conn is not None:
            return Webhook.from_row((await conn.execute(stmt)).mappings().one())
        async with self.db.write() as tx:
            return Webhook.from_row((await tx.execute(stmt)).mappings().one())

    async def get(self, webhook_id: int) -> Webhook | None:
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(webhooks).where(webhooks.c.id == webhook_id)))
                .mappings()
                .one_or_none()
            )
        return Webhook.from_row(row) if row is not None else None

    async def list_webhooks(
        self, *, scope: ScopeName | None = None, scope_id: int | None = None, limit: int = 1000
    ) -> list[Webhook]:
        """Subscriptions, oldest first, optionally of one scope (and one id)."""
        stmt = sa.select(webhooks).order_by(webhooks.c.id).limit(limit)
        if scope is not None:
            stmt = stmt.where(webhooks.c.scope == scope)
        if scope_id is not None:
            stmt = stmt.where(webhooks.c.scope_id == scope_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Webhook.from_row(row) for row in rows]

    async def delete(self, webhook_id: int) -> bool:
        """Remove a subscription with its deliveries; whether it existed."""
        async with self.db.write() as tx:
            result = await tx.execute(
                sa.delete(webhooks).where(webhooks.c.id == webhook_id).returning(webhooks.c.id)
            )
            return result.one_or_none() is not None

    async def subscriptions(self) -> Subscriptions:
        """What ``Subscriptions`` describes, in two small queries."""
        broad = sa.select(webhooks).where(_ACTIVE, webhooks.c.scope != "job")
        jobs_with_own = sa.select(webhooks.c.scope_id).where(_ACTIVE, webhooks.c.scope == "job")
        async with self.db.read() as conn:
            rows = (await conn.execute(broad)).mappings().all()
            ids = (await conn.execute(jobs_with_own)).scalars().all()
        return Subscriptions(
            tuple(Webhook.from_row(row) for row in rows), frozenset(int(i) for i in ids)
        )

    async def for_job(self, job_id: int) -> list[Webhook]:
        """The active subscriptions of one job."""
        stmt = sa.select(webhooks).where(
            _ACTIVE, webhooks.c.scope == "job", webhooks.c.scope_id == job_id
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Webhook.from_row(row) for row in rows]

    async def ensure_for_job(
        self, job_id: int, url: str, events: Sequence[str], secret: str
    ) -> tuple[Webhook, bool]:
        """The job's subscription to ``url``, created unless it exists; (it, created).

        One job runs in one worker at a time, so no two callers race for the same job.
        """
        async with self.db.write() as tx:
            row = (
                (
                    await tx.execute(
                        sa.select(webhooks).where(
                            webhooks.c.scope == "job",
                            webhooks.c.scope_id == job_id,
                            webhooks.c.url == url,
                        )
                    )
                )
                .mappings()
                .first()
            )
            if row is not None:
                return Webhook.from_row(row), False
            made = await self.create(
                url,
                events,
                secret,
                scope="job",
                scope_id=job_id,
                description="the job's webhook option",
                conn=tx,
            )
            return made, True

    async def job_exists(self, job_id: int) -> bool:
        async with self.db.read() as conn:
            found = await conn.scalar(sa.select(jobs.c.id).where(jobs.c.id == job_id))
        return found is not None

    async def schedule_exists(self, schedule_id: int) -> bool:
        async with self.db.read() as conn:
            found = await conn.scalar(
                sa.select(schedules.c.id).where(schedules.c.id == schedule_id)
            )
        return found is not None

    async def schedule_of(self, job_id: int) -> int | None:
        """The schedule whose fire enqueued ``job_id``, if one did."""
        stmt = sa.select(schedule_fires.c.schedule_id).where(schedule_fires.c.job_id == job_id)
        async with self.db.read() as conn:
            found = await conn.scalar(stmt.limit(1))
        return int(found) if found is not None else None

    # -- deliveries ----------------------------------------------------------------------

    async def add_deliveries(self, conn: AsyncConnection, new: Sequence[NewDelivery]) -> list[int]:
        """Insert pending deliveries in the caller's transaction; their ids, in order."""
        if not new:
            return []
        result = await conn.execute(
            sa.insert(webhook_deliveries)
            .values(status="pending", attempts=0, created_at=now(), updated_at=now())
            .returning(webhook_deliveries.c.id, sort_by_parameter_order=True),
            [
                {
                    "webhook_id": d.webhook_id,
                    "event": d.event,
                    "message_id": d.message_id,
                    "payload": d.payload,
                }
                for d in new
            ],
        )
        return [row.id for row in result.all()]

    async def assign_jobs(self, conn: AsyncConnection, pairs: Sequence[tuple[int, int]]) -> None:
        """Note which job sends each delivery: ``(delivery id, job id)`` pairs."""
        if pairs:
            await conn.execute(
                sa.update(webhook_deliveries)
                .where(webhook_deliveries.c.id == sa.bindparam("b_id"))
                .values(job_id=sa.bindparam("b_job")),
                [{"b_id": delivery, "b_job": job} for delivery, job in pairs],
            )

    async def reset_for_redelivery(self, conn: AsyncConnection, delivery_id: int) -> bool:
        """Make a delivery pending again (its attempts stay logged); whether it exists."""
        result = await conn.execute(
            sa.update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(status="pending", updated_at=now())
            .returning(webhook_deliveries.c.id)
        )
        return result.one_or_none() is not None

    async def target(self, delivery_id: int) -> Target | None:
        """The delivery with its subscription's URL and secret, for sending it."""
        stmt = sa.select(
            webhook_deliveries, webhooks.c.url, webhooks.c.secret, webhooks.c.active
        ).select_from(
            webhook_deliveries.join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        )
        async with self.db.read() as conn:
            row = (
                (await conn.execute(stmt.where(webhook_deliveries.c.id == delivery_id)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            return None
        return Target(Delivery.from_row(row), row["url"], row["secret"], bool(row["active"]))

    async def record_attempt(self, delivery_id: int, attempt: AttemptRecord) -> None:
        """Log an attempt and move the delivery to ``attempt.delivery_status``, together."""
        succeeded = attempt.delivery_status == "succeeded"
        async with self.db.write() as tx:
            await tx.execute(
                sa.insert(webhook_attempts).values(
                    delivery_id=delivery_id,
                    at=now(),
                    status_code=attempt.status_code,
                    latency=attempt.latency,
                    response=attempt.response,
                    error=attempt.error,
                )
            )
            await tx.execute(
                sa.update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(
                    status=attempt.delivery_status,
                    attempts=webhook_deliveries.c.attempts + 1,
                    last_status=attempt.status_code,
                    last_error=attempt.error,
                    updated_at=now(),
                    delivered_at=now() if succeeded else webhook_deliveries.c.delivered_at,
                )
            )

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        stmt = sa.select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().one_or_none()
        return Delivery.from_row(row) if row is not None else None

    async def deliveries(
        self, webhook_id: int, *, limit: int = 50, before: int | None = None
    ) -> list[Delivery]:
        """A subscription's deliveries, newest first; ``before`` a delivery id to page."""
        stmt = (
            sa.select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(webhook_deliveries.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(webhook_deliveries.c.id < before)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [Delivery.from_row(row) for row in rows]

    async def latest_deliveries(self, webhook_ids: Sequence[int]) -> dict[int, Delivery]:
        """Each subscription's newest delivery, in one query (those without one left out)."""
        if not webhook_ids:
            return {}
        newest = (
            sa.select(sa.func.max(webhook_deliveries.c.id))
            .where(webhook_deliveries.c.webhook_id.in_(list(webhook_ids)))
            .group_by(webhook_deliveries.c.webhook_id)
        )
        stmt = sa.select(webhook_deliveries).where(webhook_deliveries.c.id.in_(newest))
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return {row["webhook_id"]: Delivery.from_row(row) for row in rows}

    async def attempts(self, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
        """The attempts of each delivery, oldest first."""
        found: dict[int, list[Attempt]] = {delivery_id: [] for delivery_id in delivery_ids}
        if not delivery_ids:
            return found
        stmt = (
            sa.select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id.in_(list(delivery_ids)))
            .order_by(webhook_attempts.c.id)
        )
        async with self.db.read() as conn:
            for row in (await conn.execute(stmt)).mappings():
                found[row["delivery_id"]].append(Attempt.from_row(row))
        return found

    # -- housekeeping --------------------------------------------------------------------

    async def purge(self, older_than: float) -> int:
        """Forget deliveries created more than ``older_than`` seconds ago, and the
        subscriptions of jobs that no longer exist; how many deliveries went."""
        async with self.db.write() as tx:
            gone = await tx.execute(
                sa.delete(webhook_deliveries)
                .where(webhook_deliveries.c.created_at < seconds_from_now(-older_than))
                .returning(webhook_deliveries.c.id)
            )
            count = len(gone.all())
            await tx.execute(
                sa.delete(webhooks).where(
                    webhooks.c.scope == "job",
                    ~sa.exists().where(jobs.c.id == webhooks.c.scope_id),
                )
            )
        return count
