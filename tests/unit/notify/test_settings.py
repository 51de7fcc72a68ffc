"""E-mail and webhook settings: from the environment, validated, secrets kept secret."""

from __future__ import annotations

import pytest

from scrapeyard import config, errors


def test_email_settings_come_from_the_environment_and_the_password_stays_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRAPEYARD_EMAIL__HOST", "smtp.example.com")
    monkeypatch.setenv("SCRAPEYARD_EMAIL__PASSWORD", "hunter2-hunter2")
    monkeypatch.setenv("SCRAPEYARD_EMAIL__ON_FAILURE", "ops@example.com, oncall@example.com")
    monkeypatch.setenv("SCRAPEYARD_WEBHOOKS__RETRY_DELAYS", '["1s", "2m"]')
    loaded = config.load_settings()

    assert loaded.email.host == "smtp.example.com" and loaded.email.security == "starttls"
    assert loaded.email.on_failure == ["ops@example.com", "oncall@example.com"]
    assert loaded.webhooks.retry_delays == [1.0, 120.0]
    assert "hunter2" not in repr(loaded) and "hunter2" not in str(loaded.model_dump())
    # Worker processes get their settings as JSON on stdin: there the password travels.
    carried = config.Settings(**loaded.model_dump(mode="json"))
    assert carried.email.password is not None
    assert carried.email.password.get_secret_value() == "hunter2-hunter2"


def test_bad_addresses_are_refused_with_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPEYARD_EMAIL__ALERTS", "ops@example.com, nobody")
    with pytest.raises(errors.ConfigError, match="email.alerts"):
        config.load_settings()
    with pytest.raises(errors.ConfigError, match="email.security"):
        config.load_settings(email={"security": "ssl"})
