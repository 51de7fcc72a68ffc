"""How the API behaves, apart from the settings every component shares."""

from __future__ import annotations

from dataclasses import dataclass

from scrapeyard import config

MIB = 1024 * 1024


@dataclass(frozen=True)
class ApiOptions:
    """Limits and timings of one API process.

    The rate limit is a token bucket per key and per API process: a key may make
    ``rate_burst`` requests at once, then ``rate_limit`` per second on average.
    """

    rate_limit: float = 50.0
    rate_burst: int = 200
    max_body_bytes: int = 10 * MIB
    stream_poll_interval: float = 0.5
    """How often an event stream looks at its job for changes."""
    stream_heartbeat: float = 15.0
    """Seconds of silence after which an event stream sends a comment to stay open."""
    metrics_from_loopback: bool = True
    """Serve ``/metrics`` without a key to clients on the same machine."""
    pool_size: int = 10
    """Database connections this process may hold."""
    max_wait: float = 300.0
    """The longest a request waits for a job (``POST /v1/scrape`` and ``/v1/map``)."""

    @classmethod
    def from_settings(cls, settings: config.Settings) -> ApiOptions:
        api = settings.api
        return cls(
            rate_limit=api.rate_limit,
            rate_burst=api.rate_burst,
            max_body_bytes=api.max_body_bytes,
            metrics_from_loopback=api.metrics_from_loopback,
        )
