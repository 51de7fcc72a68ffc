"""Which queues a worker serves, and in what order it asks them for jobs.

``"crawl,default"`` serves ``crawl`` first and ``default`` only when ``crawl`` has
nothing ready. ``"crawl:3,default:1"`` weighs them: each round starts with ``crawl``
three times in four, so a busy queue cannot starve the other.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from scrapeyard import errors
from scrapeyard.queue import jobs


@dataclass(frozen=True)
class QueueSelector:
    """Queue names with optional weights; ``order()`` gives one round's order."""

    names: tuple[str, ...]
    weights: tuple[int, ...] | None = None
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    @classmethod
    def parse(cls, spec: str | list[str]) -> QueueSelector:
        """From ``"a,b"``, ``"a:3,b:1"`` or a list of such items."""
        items = spec.split(",") if isinstance(spec, str) else spec
        names: list[str] = []
        weights: list[int] = []
        for raw in (item.strip() for item in items):
            if not raw:
                continue
            name, _, weight = raw.partition(":")
            jobs.validate_name("queues", name.strip())
            if weight:
                if not weight.strip().isdigit() or int(weight) < 1:
                    raise errors.InvalidInput(
                        "queues", f"weight of {name!r} must be a positive integer"
                    )
                weights.append(int(weight))
            else:
                weights.append(0)
            names.append(name.strip())
        if not names:
            raise errors.InvalidInput("queues", "name at least one queue")
        if len(set(names)) != len(names):
            raise errors.InvalidInput("queues", "a queue is named twice")
        weighted = [w for w in weights if w]
        if weighted and len(weighted) != len(weights):
            raise errors.InvalidInput("queues", "give every queue a weight, or none")
        return cls(tuple(names), tuple(weights) if weighted else None)

    def order(self) -> list[str]:
        """The queues to try this round, first choice first."""
        if self.weights is None:
            return list(self.names)
        remaining = list(zip(self.names, self.weights, strict=True))
        ordered: list[str] = []
        while remaining:
            pick = self.random() * sum(w for _, w in remaining)
            for index, (name, weight) in enumerate(remaining):
                pick -= weight
                if pick < 0 or index == len(remaining) - 1:
                    ordered.append(name)
                    del remaining[index]
                    break
        return ordered

    def __str__(self) -> str:
        if self.weights is None:
            return ",".join(self.names)
        return ",".join(f"{n}:{w}" for n, w in zip(self.names, self.weights, strict=True))
