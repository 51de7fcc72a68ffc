"""The notification settings of this process, set once by its composition root.

Hooks and crawl observers run deep inside a worker, where no settings object is passed
down; they read the small value object here. ``configure(settings)`` sets it (the
worker process, ``serve`` and tests call it); a process that never did reads the
configuration once, the way the CLI would (YAML file and ``SCRAPEYARD_*`` variables),
so a worker started without it still honours the operator's settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapeyard import config, logs


@dataclass(frozen=True)
class NotifySettings:
    """What notifications need to know: webhook and e-mail settings, allowed networks."""

    webhooks: config.WebhookSettings
    email: config.EmailSettings
    allowed_networks: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: config.Settings) -> NotifySettings:
        return cls(settings.webhooks, settings.email, tuple(settings.allowed_networks))


_current: NotifySettings | None = None


def configure(settings: config.Settings | NotifySettings) -> NotifySettings:
    """Use ``settings`` for this process's notifications; their secrets join the log mask."""
    global _current
    chosen = (
        settings if isinstance(settings, NotifySettings) else NotifySettings.from_settings(settings)
    )
    for secret in (chosen.email.password, chosen.webhooks.secret):
        if secret is not None:
            logs.secrets.add(secret.get_secret_value())
    _current = chosen
    return chosen


def current() -> NotifySettings:
    """The settings ``configure`` set, or else the configuration read once now."""
    if _current is None:
        return configure(config.load_settings())
    return _current


def reset() -> None:
    """Forget what ``configure`` set (tests)."""
    global _current
    _current = None
