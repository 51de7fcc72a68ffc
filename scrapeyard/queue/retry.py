"""Retry policies: how long a failed job waits before its next attempt."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scrapeyard import errors

BackoffKind = Literal["exponential", "fixed"]


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry a failed attempt.

    ``exponential``: ``base_delay * 2 ** (attempt - 1)``, capped at ``max_delay``.
    ``fixed``: ``base_delay`` every time. ``delays``, when given, lists the delay after
    each attempt explicitly (``[60, 300, 900]``: 1, 5 and 15 minutes), the last one
    repeating. ``jitter`` takes up to that fraction off each delay at random, so jobs
    that failed together do not all come back at the same instant.

    >>> RetryPolicy(base_delay=5, jitter=0).delay(3)
    20.0
    """

    backoff: BackoffKind = "exponential"
    base_delay: float = 5.0
    max_delay: float = 3600.0
    jitter: float = 0.25
    delays: tuple[float, ...] = ()
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.backoff not in ("exponential", "fixed"):
            raise errors.InvalidInput("retry.backoff", "must be 'exponential' or 'fixed'")
        for name in ("base_delay", "max_delay"):
            if getattr(self, name) < 0:
                raise errors.InvalidInput(f"retry.{name}", "must not be negative")
        if not 0 <= self.jitter <= 1:
            raise errors.InvalidInput("retry.jitter", "must be between 0 and 1")
        if any(delay < 0 for delay in self.delays):
            raise errors.InvalidInput("retry.delays", "delays must not be negative")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if self.delays:
            raw = self.delays[min(attempt, len(self.delays)) - 1]
        elif self.backoff == "fixed":
            raw = self.base_delay
        else:
            # min() on the exponent first keeps 2 ** n from overflowing on huge attempts.
            raw = self.base_delay * 2.0 ** min(max(attempt - 1, 0), 64)
        raw = min(raw, self.max_delay)
        return raw * (1.0 - self.jitter * self.random())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "backoff": self.backoff,
            "base_delay": self.base_delay,
            "max_delay": self.max_delay,
            "jitter": self.jitter,
        }
        if self.delays:
            data["delays"] = list(self.delays)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RetryPolicy:
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise errors.InvalidInput("retry", "must be an object")
        known = {"backoff", "base_delay", "max_delay", "jitter", "delays"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise errors.InvalidInput(f"retry.{unknown[0]}", "unknown retry setting")
        try:
            delays: Sequence[Any] = data.get("delays") or ()
            return cls(
                backoff=data.get("backoff", "exponential"),
                base_delay=float(data.get("base_delay", 5.0)),
                max_delay=float(data.get("max_delay", 3600.0)),
                jitter=float(data.get("jitter", 0.25)),
                delays=tuple(float(d) for d in delays),
            )
        except (TypeError, ValueError) as exc:
            raise errors.InvalidInput("retry", f"numbers expected: {exc}") from exc
