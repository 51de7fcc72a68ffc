"""Per-key request rate limits: a token bucket per key, kept in this process's memory.

Each API process counts on its own, so N processes behind a load balancer allow a key
up to N times the rate. That is deliberate: the limit protects a process and the
database from one runaway script, and a shared counter would cost a database write
per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; a request takes one."""

    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there will be."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (1 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    """One bucket per key id; ``check`` answers how long a request must wait (0: none)."""

    rate: float
    burst: int
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _buckets: dict[int, TokenBucket] = field(default_factory=dict, repr=False)

    def check(self, key_id: int) -> float:
        now = self.clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = TokenBucket(self.rate, self.burst, self.burst, now)
        return bucket.take(now)
