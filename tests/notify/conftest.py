"""Fixtures for the notification tests: settings for this process, test sites, SMTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tests.support.kinds  # noqa: F401  (registers the test job kinds in this process)
from scrapeyard import config
from scrapeyard.notify import runtime
from tests.notify import support
from tests.sites import server

Configure = Callable[..., runtime.NotifySettings]
FAST_WEBHOOKS: dict[str, Any] = {
    "timeout": 0.5,
    "retry_delays": [0.05, 0.05, 0.05, 0.05],
    "cache_ttl": 0,
    "page_batch_size": 8,
    "page_batch_interval": 60,
}


@pytest.fixture
def sites() -> Iterator[server.ServerThread]:
    with server.server_thread() as servers:
        yield servers


@pytest.fixture
def smtp() -> Iterator[tuple[support.Inbox, int]]:
    """A local SMTP server: its inbox and port."""
    with support.smtp_server() as running:
        yield running


@pytest.fixture
def configure() -> Iterator[Configure]:
    """Set this process's notification settings; fast webhook retries unless overridden."""

    def apply(
        webhooks: dict[str, Any] | None = None, email: dict[str, Any] | None = None
    ) -> runtime.NotifySettings:
        return runtime.configure(
            runtime.NotifySettings(
                webhooks=config.WebhookSettings(**{**FAST_WEBHOOKS, **(webhooks or {})}),
                email=config.EmailSettings(**(email or {})),
                allowed_networks=support.LOOPBACK,
            )
        )

    apply()
    yield apply
    runtime.reset()


def mail_settings(port: int, **more: Any) -> dict[str, Any]:
    """E-mail settings for the test SMTP server on ``port``."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "scrapeyard@example.com",
        **more,
    }
