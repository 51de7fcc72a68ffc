"""The per-host circuit breaker, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.crawl import circuits
from scrapeyard.crawl.circuits import CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> circuits.CircuitBreaker:
    return circuits.CircuitBreaker(failure_threshold=3, cool_down=30, clock=clock)


def test_opens_after_consecutive_failures(breaker: circuits.CircuitBreaker) -> None:
    breaker.failed("a.test")
    breaker.failed("a.test")
    breaker.before_request("a.test")
    breaker.failed("a.test")

    assert breaker.state("a.test") is CircuitState.OPEN
    with pytest.raises(errors.HostCircuitOpen, match="a.test failed 3 times"):
        breaker.before_request("a.test")
    breaker.before_request("b.test")  # other hosts are not affected


def test_a_success_resets_the_count(breaker: circuits.CircuitBreaker) -> None:
    breaker.failed("a.test")
    breaker.failed("a.test")
    breaker.succeeded("a.test")
    breaker.failed("a.test")

    assert breaker.state("a.test") is CircuitState.CLOSED


def _open(breaker: circuits.CircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        breaker.failed("a.test")


def test_half_opens_after_the_cool_down_for_one_probe(
    breaker: circuits.CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 29
    assert breaker.retry_in("a.test") == pytest.approx(1.0)
    clock.now += 1

    assert breaker.state("a.test") is CircuitState.HALF_OPEN
    breaker.before_request("a.test")  # the probe
    with pytest.raises(errors.HostCircuitOpen):
        breaker.before_request("a.test")  # everyone else waits for it

    breaker.succeeded("a.test")
    assert breaker.state("a.test") is CircuitState.CLOSED
    breaker.before_request("a.test")


def test_a_failed_probe_opens_the_circuit_again(
    breaker: circuits.CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 30
    breaker.before_request("a.test")

    breaker.failed("a.test")

    assert breaker.state("a.test") is CircuitState.OPEN
    assert breaker.retry_in("a.test") == 30


def test_a_probe_that_never_reports_is_given_up(
    breaker: circuits.CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 30
    breaker.before_request("a.test")  # this probe's task is cancelled, say

    clock.now += 30
    breaker.before_request("a.test")  # another probe may go


def test_late_failures_do_not_extend_an_open_circuit(
    breaker: circuits.CircuitBreaker, clock: Clock
) -> None:
    _open(breaker)
    clock.now += 20
    breaker.failed("a.test")  # a request that started before the circuit opened

    assert breaker.retry_in("a.test") == pytest.approx(10.0)


def test_snapshot_for_job_stats(breaker: circuits.CircuitBreaker, clock: Clock) -> None:
    _open(breaker)
    breaker.failed("b.test")
    clock.now += 10

    assert breaker.snapshot() == [
        circuits.CircuitSnapshot("a.test", CircuitState.OPEN, 3, 20.0),
        circuits.CircuitSnapshot("b.test", CircuitState.CLOSED, 1, 0.0),
    ]


def test_options_are_validated() -> None:
    with pytest.raises(errors.InvalidInput, match="failure_threshold"):
        circuits.CircuitBreaker(failure_threshold=0)
