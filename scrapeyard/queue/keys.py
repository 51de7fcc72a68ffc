"""API keys: random secrets, shown once, stored only as a hash, with a name and a scope.

A key looks like ``sy_`` followed by 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored: for a secret that long a slow password hash adds nothing, and a
plain digest can be looked up by an index. The first characters (``prefix``) are kept
in clear so people can tell their keys apart in listings.

Scopes nest: ``read`` sees everything and changes nothing, ``write`` also submits and
steers jobs, ``admin`` also steers the service (queues, keys). Expiry and revocation
are judged by the database's clock, like leases, so every host agrees.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors
from scrapeyard.queue import jobs
from scrapeyard.queue.database import Database
from scrapeyard.queue.dialects import now, seconds_from_now
from scrapeyard.queue.tables import api_keys

KEY_PREFIX = "sy_"
PREFIX_LENGTH = 11
"""Characters of the key kept in clear: ``sy_`` and eight more."""
TOUCH_INTERVAL = 60.0
"""``last_used_at`` is written at most this often per key, so reads stay reads."""
log = logging.getLogger(__name__)
_SHAPE = re.compile(r"^sy_[A-Za-z0-9_-]{20,200}$")


class Scope(enum.StrEnum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    """See jobs, queues, workers and metrics; change nothing."""
    WRITE = "write"
    """Also enqueue, cancel, retry and delete jobs."""
    ADMIN = "admin"
    """Also pause and resume queues and manage the service."""

    def allows(self, needed: Scope) -> bool:
        """Whether a key of this scope may do what ``needed`` guards."""
        return _RANK[self] >= _RANK[needed]


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


class KeyState(enum.StrEnum):
    """Whether a key opens anything."""

    ACTIVE = "active"
    """Usable."""
    EXPIRED = "expired"
    """Its ``expires_at`` has passed."""
    REVOKED = "revoked"
    """Revoked by an operator; never usable again."""


@dataclass(frozen=True)
class ApiKey:
    """A key as stored: everything but the secret, which nobody can read back."""

    id: int
    name: str
    prefix: str
    scope: Scope
    state: KeyState
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ApiKey:
        if row["revoked_at"] is not None:
            state = KeyState.REVOKED
        elif row["expired"]:
            state = KeyState.EXPIRED
        else:
            state = KeyState.ACTIVE
        return cls(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            scope=Scope(row["scope"]),
            state=state,
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            last_used_at=row["last_used_at"],
        )

    @property
    def active(self) -> bool:
        return self.state is KeyState.ACTIVE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scope": str(self.scope),
            "state": str(self.state),
        }
        for name in ("created_at", "expires_at", "revoked_at", "last_used_at"):
            value: datetime | None = getattr(self, name)
            data[name] = value.isoformat() if value else None
        return data


@dataclass(frozen=True)
class NewKey:
    """A key just created, with its secret: the only time the secret exists in clear."""

    key: ApiKey
    secret: str


def digest(secret: str) -> str:
    """The stored form of a key: its SHA-256 in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def well_formed(secret: str) -> bool:
    """Whether ``secret`` looks like a key this module made (checked before any query)."""
    return bool(_SHAPE.match(secret))


_EXPIRED = sa.and_(api_keys.c.expires_at.is_not(None), api_keys.c.expires_at <= now())
_SELECT = sa.select(api_keys, _EXPIRED.label("expired"))
_ACTIVE = sa.and_(api_keys.c.revoked_at.is_(None), sa.not_(_EXPIRED))


class KeyStore:
    """Creates, finds, checks and revokes API keys in one ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # When this process last set out to record each key's use (monotonic seconds):
        # requests arriving together must not all queue for the write lock.
        self._touched: dict[int, float] = {}
        self._touching: set[asyncio.Task[None]] = set()

    async def create(
        self, name: str, scope: Scope | str, *, expires_in: float | None = None
    ) -> NewKey:
        """A new key; its secret is in the result and nowhere else.

        ``expires_in`` is in seconds from now. A name held by another active key is
        refused, so that a name always picks out one key to revoke.
        """
        jobs.validate_name("name", name)
        scope = _scope(scope)
        if expires_in is not None and not expires_in > 0:
            raise errors.InvalidInput("expires", "must be a positive duration")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self.db.write() as conn:
            taken = await conn.scalar(
                sa.select(sa.func.count()).where(api_keys.c.name == name, _ACTIVE)
            )
            if taken:
                raise errors.InvalidInput(
                    "name", f"an active key is already named {name!r}; choose another name"
                )
            row = (
                (
                    await conn.execute(
                        sa.insert(api_keys)
                        .values(
                            name=name,
                            prefix=secret[:PREFIX_LENGTH],
                            secret_hash=digest(secret),
                            scope=str(scope),
                            created_at=now(),
                            expires_at=None if expires_in is None else seconds_from_now(expires_in),
                        )
                        .returning(api_keys.c.id)
                    )
                )
                .mappings()
                .one()
            )
            stored = await self._get(conn, row["id"])
        return NewKey(key=stored, secret=secret)

    async def list(self) -> list[ApiKey]:
        """Every key, newest first, revoked and expired ones included."""
        async with self.db.read() as conn:
            rows = (await conn.execute(_SELECT.order_by(api_keys.c.id.desc()))).mappings()
            return [ApiKey.from_row(row) for row in rows]

    async def has_active(self) -> bool:
        """Whether any key can be used right now."""
        async with self.db.read() as conn:
            count = await conn.scalar(sa.select(sa.func.count()).where(_ACTIVE))
        return bool(count)

    async def find(self, id_or_name: str) -> ApiKey:
        """The key with this id, or else the one with this name (active ones first).

        A name shared by several revoked or expired keys, and no active one, is
        ambiguous: the error lists their ids.
        """
        async with self.db.read() as conn:
            if id_or_name.isdigit() and len(id_or_name) < 19:
                rows = (
                    await conn.execute(_SELECT.where(api_keys.c.id == int(id_or_name)))
                ).mappings()
                found = [ApiKey.from_row(row) for row in rows]
                if found:
                    return found[0]
            rows = (
                await conn.execute(
                    _SELECT.where(api_keys.c.name == id_or_name).order_by(api_keys.c.id)
                )
            ).mappings()
            named = [ApiKey.from_row(row) for row in rows]
        active = [key for key in named if key.active]
        if len(active) == 1 or len(named) == 1:
            return (active or named)[0]
        if not named:
            raise errors.InvalidInput("key", f"no API key has the id or name {id_or_name!r}")
        ids = ", ".join(str(key.id) for key in named)
        raise errors.InvalidInput("key", f"{len(named)} keys are named {id_or_name!r}: ids {ids}")

    async def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key for good; revoking a revoked key changes nothing."""
        stmt = (
            sa.update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        async with self.db.write() as conn:
            await conn.execute(stmt)
            return await self._get(conn, key_id)

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The key ``secret`` belongs to, in whatever state; ``None`` if it is no key.

        The caller decides what a revoked or expired key means. Using a key records
        ``last_used_at``, at most once per ``TOUCH_INTERVAL``.
        """
        if not well_formed(secret):
            return None
        hashed = digest(secret)
        touch_due = sa.or_(
            api_keys.c.last_used_at.is_(None),
            api_keys.c.last_used_at < seconds_from_now(-TOUCH_INTERVAL),
        ).label("touch_due")
        async with self.db.read() as conn:
            row = (
                (
                    await conn.execute(
                        _SELECT.add_columns(touch_due).where(api_keys.c.secret_hash == hashed)
                    )
                )
                .mappings()
                .one_or_none()
            )
        # The lookup compares digests, not secrets, so its timing reveals nothing
        # useful; the constant-time check below keeps it that way if it ever changes.
        if row is None or not hmac.compare_digest(row["secret_hash"], hashed):
            return None
        key = ApiKey.from_row(row)
        if key.active and row["touch_due"]:
            self._touch_soon(key.id)
        return key

    def _touch_soon(self, key_id: int) -> None:
        """Record the key's use in the background, once per interval in this process: the
        request that used it never waits for a write (SQLite's lock, a busy server)."""
        at = time.monotonic()
        if at - self._touched.get(key_id, -TOUCH_INTERVAL) < TOUCH_INTERVAL:
            return
        self._touched[key_id] = at
        task = asyncio.ensure_future(self._touch_quietly(key_id))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def _touch_quietly(self, key_id: int) -> None:
        try:
            await self._touch(key_id)
        except Exception as exc:
            self._touched.pop(key_id, None)  # the next request tries again
            log.warning("could not record the use of API key %d: %s", key_id, exc)

    async def settle(self) -> None:
        """Wait for the background writes of key use (before closing the database)."""
        if self._touching:
            await asyncio.gather(*self._touching, return_exceptions=True)

    async def _touch(self, key_id: int) -> None:
        stmt = (
            sa.update(api_keys)
            .where(
                api_keys.c.id == key_id,
                sa.or_(
                    api_keys.c.last_used_at.is_(None),
                    api_keys.c.last_used_at < seconds_from_now(-TOUCH_INTERVAL),
                ),
            )
            .values(last_used_at=now())
        )
        async with self.db.write(durable=False) as conn:
            await conn.execute(stmt)

    async def _get(self, conn: AsyncConnection, key_id: int) -> ApiKey:
        row = (await conn.execute(_SELECT.where(api_keys.c.id == key_id))).mappings().one_or_none()
        if row is None:
            raise errors.InvalidInput("key", f"no API key has the id {key_id}")
        return ApiKey.from_row(row)


def _scope(value: Scope | str) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        choices = ", ".join(str(s) for s in Scope)
        raise errors.InvalidInput("scope", f"{value!r} is not one of {choices}") from None
