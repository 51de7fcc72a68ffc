"""When a failed fetch is tried again, and after how long.

Worth retrying: connection failures, timeouts, ``429 Too Many Requests`` and server
errors (5xx, except 501 and 505, which will not change). Not worth it: anything the
page itself decided (4xx), redirect loops, bodies over the limit, blocked addresses.
The delay grows exponentially from ``base_delay``, capped at ``max_delay``, with some
jitter so that pages that failed together do not come back together. A ``Retry-After``
header (seconds, or an HTTP date) replaces the computed delay, capped at
``max_retry_after``.

This is a plain policy: it answers "wait this long" or "give up". The crawler decides
how to wait (typically by rescheduling the URL in its frontier, not by sleeping).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from scrapeyard import errors

_NOT_RETRIED_5XX = frozenset({501, 505})
_RETRIED_ERRORS = (errors.FetchTimeout, errors.ConnectionFailed)


def is_retryable_status(status: int) -> bool:
    """Whether a response with ``status`` may succeed if tried again later."""
    return status == 429 or (500 <= status <= 599 and status not in _NOT_RETRIED_5XX)


def is_retryable_error(error: BaseException) -> bool:
    """Whether a fetch that raised ``error`` may succeed if tried again later."""
    return isinstance(error, _RETRIED_ERRORS)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or ``None`` if it
    is missing or unreadable. ``now`` is the current Unix time (for HTTP dates)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


@dataclass(frozen=True)
class FetchRetryPolicy:
    """How often and how patiently a page is fetched again after a retryable failure.

    >>> policy = FetchRetryPolicy(base_delay=1, jitter=0)
    >>> policy.decide(1, status=503), policy.decide(2, status=503)
    (1.0, 2.0)
    >>> policy.decide(1, status=429, headers={"Retry-After": "120"})
    120.0
    >>> policy.decide(3, status=503) is None  # max_attempts reached
    True
    """

    max_attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 600.0
    jitter: float = 0.2
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise errors.InvalidInput("retry.max_attempts", "must be at least 1")
        for name in ("base_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise errors.InvalidInput(f"retry.{name}", "must not be negative")
        if not 0 <= self.jitter <= 1:
            raise errors.InvalidInput("retry.jitter", "must be between 0 and 1")

    def backoff(self, attempt: int) -> float:
        """The delay after failed attempt number ``attempt`` (1-based), without hints."""
        raw = self.base_delay * 2.0 ** min(max(attempt - 1, 0), 64)
        return min(raw, self.max_delay) * (1.0 - self.jitter * self.random())

    def decide(
        self,
        attempt: int,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up.

        Pass the ``status`` (and ``headers``, e.g. ``FetchResult.headers``) of a
        response, or the ``error`` a fetch raised. ``attempt`` counts the attempts
        made so far, this one included.
        """
        if error is not None:
            retryable = is_retryable_error(error)
        else:
            retryable = status is not None and is_retryable_status(status)
        if not retryable or attempt >= self.max_attempts:
            return None
        hinted = parse_retry_after((headers or {}).get("Retry-After"), self.wall_clock())
        if hinted is not None:
            return min(hinted, self.max_retry_after)
        return self.backoff(attempt)
