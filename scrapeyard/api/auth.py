"""Who is asking: the bearer API key of a request, checked against the key store.

Every endpoint but health (and ``/metrics`` from loopback) needs a key; routes state
the scope they need through the dependencies in ``deps``. The dashboard can reuse
``check`` with a key from its session instead of a header.
"""

from __future__ import annotations

import ipaddress

from fastapi.security import HTTPBearer

from scrapeyard import errors as core_errors
from scrapeyard.queue import keys

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key as a bearer token: `Authorization: Bearer sy_...`. Create one "
    "with `scrapeyard keys create --name NAME --scope read|write|admin`.",
)


async def check(key_store: keys.KeyStore, secret: str) -> keys.ApiKey:
    """The active key ``secret`` belongs to; ``NotAuthenticated`` saying why if none."""
    key = await key_store.authenticate(secret)
    if key is None:
        raise core_errors.NotAuthenticated("unknown API key")
    if key.state is keys.KeyState.REVOKED:
        raise core_errors.NotAuthenticated(f"API key {key.prefix}... was revoked")
    if key.state is keys.KeyState.EXPIRED:
        assert key.expires_at is not None
        raise core_errors.NotAuthenticated(
            f"API key {key.prefix}... expired at {key.expires_at.isoformat()}"
        )
    return key


def permit(key: keys.ApiKey, needed: keys.Scope) -> None:
    """Raise ``NotPermitted`` unless ``key``'s scope covers ``needed``."""
    if not key.scope.allows(needed):
        raise core_errors.NotPermitted(str(needed), str(key.scope))


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine (``127.0.0.0/8``, ``::1``)."""
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
