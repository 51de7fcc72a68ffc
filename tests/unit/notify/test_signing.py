"""Signatures any Standard Webhooks library accepts, and secrets that are checked."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from scrapeyard import errors
from scrapeyard.notify import signing


def test_a_signed_message_verifies_with_the_standard_library_and_tampering_does_not() -> None:
    secret = signing.new_secret()
    body = b'{"type":"job.failed","data":{"job":{"id":7}}}'
    headers = signing.headers(secret, "msg_1", int(time.time()), body)

    assert Webhook(secret).verify(body, headers) == {
        "type": "job.failed",
        "data": {"job": {"id": 7}},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"7", b"8"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # replayed later than the tolerance
        old = signing.headers(secret, "msg_1", int(time.time()) - 3600, body)
        Webhook(secret).verify(body, old)


def test_secrets_and_message_ids_are_fresh_and_well_formed() -> None:
    secrets = {signing.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(signing.secret_key(s)) == signing.SECRET_BYTES for s in secrets)
    assert len({signing.new_message_id() for _ in range(100)}) == 100
    for bad in ("abc", "whsec_!!!", "whsec_c2hvcnQ="):
        with pytest.raises(errors.InvalidInput, match="secret"):
            signing.secret_key(bad)
