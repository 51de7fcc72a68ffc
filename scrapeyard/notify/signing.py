"""Signing webhook messages as the Standard Webhooks specification says.

Each request carries three headers: ``webhook-id`` (the message's id, the same on every
retry, so receivers can drop duplicates), ``webhook-timestamp`` (Unix seconds of this
attempt) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"``, keyed with the secret. A secret is ``whsec_`` followed by
the base64 of 24 random bytes. Any Standard Webhooks library verifies it, e.g.::

    from standardwebhooks import Webhook
    payload = Webhook(secret).verify(body, request_headers)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from scrapeyard import errors

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
MESSAGE_PREFIX = "msg_"


def new_secret() -> str:
    """A fresh signing secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """A message id unique among all deliveries."""
    return MESSAGE_PREFIX + secrets.token_urlsafe(18)


def secret_key(secret: str) -> bytes:
    """The HMAC key in ``secret``; ``InvalidInput`` if it is not a ``whsec_`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise errors.InvalidInput("secret", f"must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidInput("secret", "must be whsec_ followed by base64") from None
    if len(key) < 16:
        raise errors.InvalidInput("secret", "must hold at least 16 bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
