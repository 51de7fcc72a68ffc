"""``KeyStore``: keys are random, shown once, stored hashed, scoped, expiring, revocable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from scrapeyard import errors
from scrapeyard.queue import keys
from scrapeyard.queue.tables import api_keys
from tests.support.waiting import until


async def test_a_key_is_stored_only_as_its_hash(key_store: keys.KeyStore) -> None:
    made = await key_store.create("ci", "write")
    assert keys.well_formed(made.secret) and made.secret.startswith("sy_")
    assert made.key.prefix == made.secret[:11]
    async with key_store.db.read() as conn:
        stored = (await conn.execute(sa.select(api_keys))).mappings().one()
    assert made.secret not in {str(value) for value in stored.values()}
    assert stored["secret_hash"] == keys.digest(made.secret)
    other = await key_store.create("other", "read")
    assert other.secret != made.secret


async def test_authenticate_finds_the_key_and_its_state(key_store: keys.KeyStore) -> None:
    made = await key_store.create("ci", keys.Scope.WRITE)
    found = await key_store.authenticate(made.secret)
    assert found is not None
    assert (found.id, found.scope, found.state) == (made.key.id, keys.Scope.WRITE, "active")
    assert await key_store.authenticate(made.secret[:-1] + "A") is None
    assert await key_store.authenticate("sy_short") is None
    await key_store.revoke(made.key.id)
    revoked = await key_store.authenticate(made.secret)
    assert revoked is not None and revoked.state is keys.KeyState.REVOKED


async def test_keys_expire_by_the_databases_clock(key_store: keys.KeyStore) -> None:
    made = await key_store.create("short", "read", expires_in=0.3)
    assert made.key.expires_at is not None and made.key.active

    async def expired() -> bool:
        found = await key_store.authenticate(made.secret)
        return found is not None and found.state is keys.KeyState.EXPIRED

    await until(expired, timeout=10, interval=0.05)
    assert not await key_store.has_active()


def test_scopes_nest() -> None:
    read, write, admin = keys.Scope.READ, keys.Scope.WRITE, keys.Scope.ADMIN
    assert admin.allows(write) and admin.allows(read) and write.allows(read)
    assert not read.allows(write) and not write.allows(admin)


async def test_bad_input_names_the_field(key_store: keys.KeyStore) -> None:
    with pytest.raises(errors.InvalidInput) as scope:
        await key_store.create("ci", "root")
    assert scope.value.field == "scope"
    with pytest.raises(errors.InvalidInput) as name:
        await key_store.create("", "read")
    assert name.value.field == "name"
    with pytest.raises(errors.InvalidInput) as expires:
        await key_store.create("ci", "read", expires_in=0)
    assert expires.value.field == "expires"


async def test_an_active_name_picks_out_one_key(key_store: keys.KeyStore) -> None:
    first = await key_store.create("ci", "read")
    with pytest.raises(errors.InvalidInput):
        await key_store.create("ci", "read")
    await key_store.revoke(first.key.id)
    second = await key_store.create("ci", "write")
    assert (await key_store.find("ci")).id == second.key.id, "the active one wins"
    assert (await key_store.find(str(first.key.id))).id == first.key.id
    await key_store.revoke(second.key.id)
    with pytest.raises(errors.InvalidInput) as ambiguous:
        await key_store.find("ci")
    assert f"ids {first.key.id}, {second.key.id}" in str(ambiguous.value)
    with pytest.raises(errors.InvalidInput):
        await key_store.find("nobody")


async def test_revoking_twice_keeps_the_first_time(key_store: keys.KeyStore) -> None:
    made = await key_store.create("ci", "read")
    once = await key_store.revoke(made.key.id)
    twice = await key_store.revoke(made.key.id)
    assert once.revoked_at is not None and once.revoked_at == twice.revoked_at
    assert [key.state for key in await key_store.list()] == [keys.KeyState.REVOKED]
