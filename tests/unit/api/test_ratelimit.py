"""The per-key token bucket, on a fake clock."""

from __future__ import annotations

from scrapeyard.api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.check(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check(1) == 0.5, "one token every half second"
    clock.now += 0.5
    assert limiter.check(1) == 0.0
    assert limiter.check(1) == 0.5


def test_waiting_refills_up_to_the_burst_only() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.check(1)
    limiter.check(1)
    clock.now += 3600
    assert [limiter.check(1) for _ in range(3)] == [0.0, 0.0, 1.0]


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    assert limiter.check(1) == 0.0
    assert limiter.check(1) > 0
    assert limiter.check(2) == 0.0


def test_a_zero_rate_allows_only_the_burst() -> None:
    limiter = RateLimiter(rate=0.0, burst=1, clock=Clock())
    assert limiter.check(1) == 0.0
    assert limiter.check(1) == float("inf")
