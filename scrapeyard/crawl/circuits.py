"""A circuit breaker per host, so a failing site is left alone instead of hammered.

After ``failure_threshold`` consecutive failures a host's circuit opens and requests
to it are refused with ``HostCircuitOpen`` for ``cool_down`` seconds. Then it is half
open: one request (the probe) goes through; its success closes the circuit, its
failure opens it for another cool-down. A probe that never reports back (its task was
cancelled) is given up after a cool-down, and another request may probe.

What counts as a failure is the caller's call (``retries.FetchRetryPolicy`` says which
errors and statuses are worth retrying; those are the ones to count).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from scrapeyard import errors


class CircuitState(enum.StrEnum):
    """The state of one host's circuit."""

    CLOSED = "closed"
    """Requests flow; consecutive failures are counted."""
    OPEN = "open"
    """Requests are refused until the cool-down ends."""
    HALF_OPEN = "half_open"
    """The cool-down ended; one probe request is allowed through."""


@dataclass(frozen=True)
class CircuitSnapshot:
    """One host's circuit, as reported in job stats and host state."""

    host: str
    state: CircuitState
    failures: int
    retry_in: float
    """Seconds until a request may be tried again (0 when it may be tried now)."""

    def to_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "state": str(self.state),
            "failures": self.failures,
            "retry_in": round(self.retry_in, 1),
        }


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probe_started: float | None = None


class CircuitBreaker:
    """Per-host circuits, all in memory, with an injectable clock for tests.

    >>> breaker = CircuitBreaker(failure_threshold=2, cool_down=30, clock=lambda: 0.0)
    >>> breaker.failed("example.com"); breaker.failed("example.com")
    >>> breaker.state("example.com")
    <CircuitState.OPEN: 'open'>
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_down: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise errors.InvalidInput("failure_threshold", "must be at least 1")
        if cool_down < 0:
            raise errors.InvalidInput("cool_down", "must not be negative")
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def _state(self, circuit: _Circuit, now: float) -> CircuitState:
        if circuit.opened_at is None:
            return CircuitState.CLOSED
        if now - circuit.opened_at < self.cool_down:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def state(self, host: str) -> CircuitState:
        """The state of ``host``'s circuit now."""
        circuit = self._circuits.get(host)
        return CircuitState.CLOSED if circuit is None else self._state(circuit, self._clock())

    def retry_in(self, host: str) -> float:
        """Seconds until a request to ``host`` may be tried (0 if it may be now)."""
        circuit = self._circuits.get(host)
        if circuit is None or circuit.opened_at is None:
            return 0.0
        now = self._clock()
        if self._state(circuit, now) is CircuitState.OPEN:
            return circuit.opened_at + self.cool_down - now
        if circuit.probe_started is not None:
            return max(circuit.probe_started + self.cool_down - now, 0.0)
        return 0.0

    def before_request(self, host: str) -> None:
        """Raise ``HostCircuitOpen`` unless a request to ``host`` may go now. In the
        half-open state, the request that passes is the probe; others are refused."""
        circuit = self._circuits.get(host)
        if circuit is None or circuit.opened_at is None:
            return
        now = self._clock()
        if self._state(circuit, now) is CircuitState.HALF_OPEN and (
            circuit.probe_started is None or now - circuit.probe_started >= self.cool_down
        ):
            circuit.probe_started = now
            return
        raise errors.HostCircuitOpen(
            f"{host} failed {circuit.failures} times in a row; "
            f"not trying again for {self.retry_in(host):.1f}s"
        )

    def succeeded(self, host: str) -> None:
        """A request to ``host`` worked: its circuit closes."""
        self._circuits.pop(host, None)

    def failed(self, host: str) -> None:
        """A request to ``host`` failed: count it, and open the circuit at the threshold
        (or again at once, if this was the half-open probe)."""
        circuit = self._circuits.setdefault(host, _Circuit())
        circuit.failures += 1
        now = self._clock()
        state = self._state(circuit, now)
        # A request that was already under way when the circuit opened does not
        # extend the cool-down; a failed probe (or reaching the threshold) starts one.
        if state is CircuitState.HALF_OPEN or (
            state is CircuitState.CLOSED and circuit.failures >= self.failure_threshold
        ):
            circuit.opened_at = now
            circuit.probe_started = None

    def snapshot(self) -> list[CircuitSnapshot]:
        """Every host that has failed recently, for job stats."""
        now = self._clock()
        return [
            CircuitSnapshot(host, self._state(c, now), c.failures, self.retry_in(host))
            for host, c in sorted(self._circuits.items())
        ]
