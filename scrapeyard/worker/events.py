"""In-process hooks on what workers do, for metrics, notifications and webhooks.

Subscribe a function (plain or async) to an event name; it is called with keyword
arguments describing the event. A hook that raises is logged and ignored: hooks never
break the worker. Hooks run in the worker process, so register them in a module listed
in the ``imports`` setting::

    import scrapeyard

    @scrapeyard.on("job_failed")
    async def page_me(job, error, **_):
        ...

Events and their arguments:

=====================  ==========================================================
job_started            job
job_succeeded          job, result, duration
job_failed             job, error, duration, final (True when no retry follows)
job_retry_scheduled    job, error, delay
job_rescued            job_ids (jobs taken back from dead workers)
worker_started         worker_id, host, pid, queues
worker_stopped         worker_id, reason
worker_memory_high     worker_id, rss_bytes, limit_bytes
=====================  ==========================================================
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, Literal

EventName = Literal[
    "job_started",
    "job_succeeded",
    "job_failed",
    "job_retry_scheduled",
    "job_rescued",
    "worker_started",
    "worker_stopped",
    "worker_memory_high",
]
EVENT_NAMES: frozenset[str] = frozenset(EventName.__args__)  # type: ignore[attr-defined]

Hook = Callable[..., Any]

log = logging.getLogger(__name__)


class Hooks:
    """Subscribers by event name."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Hook]] = {}

    def subscribe(self, event: EventName, hook: Hook) -> Hook:
        if event not in EVENT_NAMES:
            raise ValueError(f"unknown event {event!r}; known: {', '.join(sorted(EVENT_NAMES))}")
        self._hooks.setdefault(event, []).append(hook)
        return hook

    def unsubscribe(self, event: EventName, hook: Hook) -> None:
        if hook in self._hooks.get(event, []):
            self._hooks[event].remove(hook)

    def on(self, event: EventName) -> Callable[[Hook], Hook]:
        """Decorator form of ``subscribe``."""

        def register(hook: Hook) -> Hook:
            return self.subscribe(event, hook)

        return register

    async def emit(self, event: EventName, **data: Any) -> None:
        """Call every hook of ``event``; exceptions are logged, never raised."""
        for hook in list(self._hooks.get(event, ())):
            try:
                outcome = hook(**data)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                log.exception("hook %s for %s raised; ignored", _name(hook), event)


def _name(hook: Hook) -> str:
    return getattr(hook, "__qualname__", repr(hook))


hooks = Hooks()
"""The hooks every worker in this process calls."""
on = hooks.on
