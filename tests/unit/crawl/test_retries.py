"""The fetch retry policy: what is retried, and after how long."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from scrapeyard import errors
from scrapeyard.crawl import retries

NOW = 1_700_000_000.0


def policy(**options: Any) -> retries.FetchRetryPolicy:
    return retries.FetchRetryPolicy(jitter=0, wall_clock=lambda: NOW, **options)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(429, True), (500, True), (502, True), (503, True), (504, True), (599, True)]
    + [(501, False), (505, False), (200, False), (301, False), (404, False), (403, False)],
)
def test_which_statuses_are_retried(status: int, retryable: bool) -> None:
    assert retries.is_retryable_status(status) is retryable


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (errors.FetchTimeout(), True),
        (errors.ConnectionFailed(), True),
        (errors.BodyTooLarge(), False),
        (errors.TooManyRedirects(), False),
        (errors.BlockedAddress(), False),
        (errors.UnsupportedScheme(), False),
        (ValueError(), False),
    ],
)
def test_which_errors_are_retried(error: BaseException, retryable: bool) -> None:
    assert retries.is_retryable_error(error) is retryable


def test_backoff_is_exponential_and_capped() -> None:
    rules = policy(base_delay=1, max_delay=10, max_attempts=100)

    delays = [rules.decide(attempt, status=503) for attempt in range(1, 7)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert rules.backoff(10_000) == 10.0  # no overflow on absurd attempts


def test_gives_up_after_max_attempts_or_on_a_final_answer() -> None:
    rules = policy(max_attempts=3)

    assert rules.decide(2, error=errors.FetchTimeout()) is not None
    assert rules.decide(3, error=errors.FetchTimeout()) is None
    assert rules.decide(1, status=404) is None
    assert rules.decide(1, error=errors.BodyTooLarge()) is None


def test_retry_after_seconds_and_dates_are_honoured_and_capped() -> None:
    rules = policy(max_retry_after=300)
    in_two_minutes = email.utils.formatdate(NOW + 120, usegmt=True)

    assert rules.decide(1, status=429, headers={"Retry-After": "30"}) == 30.0
    assert rules.decide(1, status=503, headers={"Retry-After": in_two_minutes}) == 120.0
    assert rules.decide(1, status=503, headers={"Retry-After": "86400"}) == 300.0
    assert rules.decide(1, status=503, headers={"Retry-After": "soon"}) == 1.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 12 ", 12.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: now
        ("-5", None),
        ("1.5", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone
        ("garbage, 99 Foo 0000", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert retries.parse_retry_after(value, NOW) == seconds


def test_jitter_takes_off_up_to_its_fraction() -> None:
    rules = retries.FetchRetryPolicy(base_delay=10, jitter=0.5, random=lambda: 1.0)

    assert rules.backoff(1) == 5.0


@pytest.mark.parametrize(
    ("options", "field"),
    [({"max_attempts": 0}, "retry.max_attempts"), ({"jitter": 2}, "retry.jitter")]
    + [({"base_delay": -1}, "retry.base_delay")],
)
def test_options_are_validated(options: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        retries.FetchRetryPolicy(**options)

    assert caught.value.field == field
