"""Job kinds: a name, the coroutine that runs it, and defaults for jobs of that kind.

Register your own with the decorator, in a module listed in the ``imports`` setting so
that workers and the API import it::

    import scrapeyard

    @scrapeyard.job_kind("send_report", queue="mail", max_attempts=5)
    async def send_report(ctx: scrapeyard.JobContext) -> dict[str, int]:
        ...
        return {"sent": 1}

A handler returns the job's result (anything JSON-serialisable) or raises: ``RetryLater``
to choose the retry delay, ``PermanentError`` to fail without retrying; any other
exception is a retryable failure.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapeyard import errors
from scrapeyard.queue import jobs

if TYPE_CHECKING:
    from scrapeyard.worker.context import JobContext

Handler = Callable[["JobContext"], Coroutine[Any, Any, Any]]
Validator = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class Kind:
    """A registered job kind."""

    name: str
    handler: Handler
    description: str = ""
    defaults: jobs.KindDefaults = jobs.KindDefaults()
    validate: Validator | None = None
    """Checks a payload at enqueue time; raises ``InvalidInput`` naming the field."""


class Registry:
    """Job kinds by name (a ``KindCatalog``). ``registry`` below is the one in use."""

    def __init__(self) -> None:
        self._kinds: dict[str, Kind] = {}

    def add(self, kind: Kind) -> None:
        jobs.validate_name("kind", kind.name)
        existing = self._kinds.get(kind.name)
        if existing is not None and existing.handler is not kind.handler:
            raise errors.InvalidInput("kind", f"{kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def __call__(
        self,
        name: str,
        *,
        queue: str | None = None,
        priority: int | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
        validate: Validator | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator: register the decorated coroutine function as kind ``name``.

        ``validate(payload)``, when given, runs at enqueue time and refuses a bad
        payload with ``InvalidInput`` before anything is stored.
        """

        def register(handler: Handler) -> Handler:
            self.add(
                Kind(
                    name=name,
                    handler=handler,
                    description=(handler.__doc__ or "").strip().split("\n")[0],
                    defaults=jobs.KindDefaults(queue, priority, max_attempts, timeout),
                    validate=validate,
                )
            )
            return handler

        return register

    def get(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise errors.UnknownKind(name, list(self._kinds)) from None

    def defaults(self, name: str) -> jobs.KindDefaults:
        return self.get(name).defaults

    def validate(self, name: str, payload: Mapping[str, Any]) -> None:
        check = self.get(name).validate
        if check is not None:
            check(payload)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._kinds))

    def __len__(self) -> int:
        return len(self._kinds)


registry = Registry()
job_kind = registry


def import_modules(names: list[str]) -> None:
    """Import the modules named in the ``imports`` setting, so their kinds register."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise errors.ConfigError("imports", f"cannot import {name!r}: {exc}") from exc


@job_kind("noop")
async def noop(ctx: JobContext) -> dict[str, Any]:
    """Return the payload, after sleeping payload["sleep"] seconds when given."""
    sleep = ctx.job.payload.get("sleep")
    if sleep is not None:
        if isinstance(sleep, bool) or not isinstance(sleep, int | float) or sleep < 0:
            raise errors.PermanentError("payload.sleep must be a non-negative number")
        await asyncio.sleep(float(sleep))
    return ctx.job.payload
