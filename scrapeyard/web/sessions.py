"""Dashboard sessions: the API key, sealed into a cookie that only this service can open.

Logging in checks the key as any API request would, then sets one cookie::

    v1.<key id>.<expires>.<nonce>.<ciphertext>.<tag>

- The key is encrypted with a keystream of HMAC-SHA256 blocks (counter mode) and the
  whole cookie is authenticated with HMAC-SHA256 (encrypt-then-MAC). Both keys are
  derived from the API key's stored digest (the SHA-256 the key store keeps), with a
  fresh random nonce per login. So the cookie never holds the key in readable form; a
  stolen cookie, without the database, reveals nothing; and reading the database is
  not enough to make a session, because an opened cookie yields a key that must still
  hash to the stored digest.
- Every request opens the cookie and authenticates the key exactly as a bearer request
  is authenticated (``api.auth.check``): a key revoked or expired stops working at
  once, on every host, and a session has the key's own scope.
- A session lasts ``LIFETIME`` at most; logging out deletes the cookie (revoke the key
  to end every session it opened).
- CSRF tokens are an HMAC of the session's nonce under a third derived key: a
  synchronizer token bound to the session, which needs no server-side storage.

No session table is needed, sessions survive restarts, and every API process that
shares the database accepts them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

COOKIE = "scrapeyard_session"
VERSION = "v1"
LIFETIME = 12 * 3600
"""Seconds a session lasts after logging in."""
NONCE_BYTES = 16
_ROOT_LABEL = b"scrapeyard dashboard session v1"
_BLOCK = hashlib.sha256().digest_size


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


@dataclass(frozen=True)
class SessionKeys:
    """The keys that seal, sign and guard the sessions of one API key."""

    encrypt: bytes
    sign: bytes
    csrf: bytes

    @classmethod
    def derive(cls, digest: str) -> SessionKeys:
        """Keys from an API key's stored digest (hex), one per purpose."""
        root = _mac(bytes.fromhex(digest), _ROOT_LABEL)
        return cls(
            encrypt=_mac(root, b"encrypt"), sign=_mac(root, b"sign"), csrf=_mac(root, b"csrf")
        )

    def keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = (
            _mac(self.encrypt, nonce + counter.to_bytes(4, "big"))
            for counter in range(math.ceil(length / _BLOCK))
        )
        return b"".join(blocks)[:length]


@dataclass(frozen=True)
class Sealed:
    """A session cookie taken apart, not yet verified."""

    key_id: int
    expires: int
    nonce: bytes
    ciphertext: bytes
    tag: bytes

    @property
    def signed(self) -> bytes:
        """Everything the tag covers."""
        return ".".join(
            (
                VERSION,
                str(self.key_id),
                str(self.expires),
                _encode(self.nonce),
                _encode(self.ciphertext),
            )
        ).encode()

    def cookie(self) -> str:
        return f"{self.signed.decode()}.{_encode(self.tag)}"


def seal(secret: str, key_id: int, digest: str, *, now: float, lifetime: int = LIFETIME) -> str:
    """The cookie value for a session of the key ``secret`` (id ``key_id``)."""
    keys = SessionKeys.derive(digest)
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = secret.encode()
    ciphertext = bytes(a ^ b for a, b in zip(plain, keys.keystream(nonce, len(plain)), strict=True))
    unsigned = Sealed(key_id, int(now) + lifetime, nonce, ciphertext, b"")
    return Sealed(
        key_id, unsigned.expires, nonce, ciphertext, _mac(keys.sign, unsigned.signed)
    ).cookie()


def parse(cookie: str) -> Sealed | None:
    """The parts of a session cookie, or ``None`` if it is not shaped like one."""
    parts = cookie.split(".")
    if len(parts) != 6 or parts[0] != VERSION:
        return None
    _, key_id, expires, nonce, ciphertext, tag = parts
    if not (key_id.isdigit() and expires.isdigit() and len(key_id) < 19 and len(expires) < 19):
        return None
    try:
        sealed = Sealed(
            int(key_id), int(expires), _decode(nonce), _decode(ciphertext), _decode(tag)
        )
    except (ValueError, binascii.Error):
        return None
    if len(sealed.nonce) != NONCE_BYTES or not 0 < len(sealed.ciphertext) <= 512:
        return None
    return sealed


def unseal(sealed: Sealed, digest: str, *, now: float) -> str | None:
    """The API key inside a session cookie if the tag verifies and it has not expired."""
    if sealed.expires <= now:
        return None
    keys = SessionKeys.derive(digest)
    if not hmac.compare_digest(_mac(keys.sign, sealed.signed), sealed.tag):
        return None
    stream = keys.keystream(sealed.nonce, len(sealed.ciphertext))
    plain = bytes(a ^ b for a, b in zip(sealed.ciphertext, stream, strict=True))
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return None


def csrf_token(sealed: Sealed, digest: str) -> str:
    """The CSRF token of a session: forms and actions must send it back."""
    return _encode(_mac(SessionKeys.derive(digest).csrf, sealed.nonce))


def csrf_matches(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode(), expected.encode())
