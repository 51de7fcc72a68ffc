"""The crawl's memory as the engine sees it: URLs waiting, URLs done, pages recorded.

The engine never knows where that memory lives. It talks to a ``CrawlState``; the
durable one (``queue/crawls.py``, wired in by the worker) keeps it in the database so
that several processes can work one crawl and a killed crawl resumes where it stopped.

A URL goes ``queued`` -> ``claimed`` (by one participant, under a lease) -> one of
``done`` (a page record is stored), ``failed`` (a failure record is stored), ``skipped``
(robots.txt, with a record saying so) or back to ``queued`` for a retry. URLs found
after ``max_pages`` were admitted are kept as ``dropped`` so they are not found again.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

Source = Literal["start", "link", "sitemap", "redirect"]
"""How a URL was found; ``redirect`` marks a redirect target, stored as already done."""


@dataclass(frozen=True)
class Entry:
    """A URL claimed from the frontier, to fetch."""

    id: int
    url: str
    url_hash: str
    depth: int
    attempts: int


@dataclass(frozen=True)
class Discovered:
    """A URL found (normalised), to add to the frontier unless it is already there.

    A URL that robots.txt disallows is added too, as ``skipped`` with ``blocked`` (the
    record saying why), so it is reported once and never counts against ``max_pages``.
    """

    url: str
    url_hash: str
    host: str
    depth: int
    parent_id: int | None
    source: Source
    blocked: PageRecord | None = None


class Fate(enum.StrEnum):
    """What became of a claimed URL."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRY = "retry"


@dataclass(frozen=True)
class PageRecord:
    """What is stored for one page: the response and what was extracted from it."""

    url: str
    url_hash: str
    final_url: str | None
    depth: int
    ok: bool
    status: int | None
    content_type: str | None
    bytes: int
    elapsed: float
    content_hash: str | None
    data: dict[str, Any] | None
    error: dict[str, str] | None
    fetched_at: datetime


@dataclass(frozen=True)
class Outcome:
    """A claimed URL's fate, and the record to store with it."""

    entry: Entry
    fate: Fate
    record: PageRecord | None = None
    retry_in: float = 0.0
    """For ``RETRY``: seconds before the URL may be claimed again."""
    count_attempt: bool = True
    """For ``RETRY``: False when the URL was never tried (its host's circuit was open)."""


@dataclass
class Tally:
    """Counters a participant adds to the crawl's with each commit."""

    fetched: int = 0
    failed: int = 0
    skipped_robots: int = 0
    skipped_scope: int = 0
    skipped_content_type: int = 0
    bytes: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Counters:
    """A crawl's progress, summed over every participant."""

    admitted: int = 0
    discovered: int = 0
    fetched: int = 0
    failed: int = 0
    skipped_robots: int = 0
    skipped_scope: int = 0
    skipped_content_type: int = 0
    bytes: int = 0
    open: int = 0
    """URLs queued or claimed: the work left."""
    max_pages: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CrawlState(Protocol):
    """Where a crawl's frontier and page records live."""

    async def seed(self, urls: Sequence[Discovered]) -> int:
        """Add start (and sitemap) URLs; how many were new and admitted. Idempotent."""
        ...

    async def claim(self, limit: int) -> list[Entry]:
        """Up to ``limit`` URLs to fetch, shallowest first, leased to this participant.

        URLs whose lease ran out (their participant died) count as claimable.
        """
        ...

    async def commit(
        self, outcomes: Sequence[Outcome], discovered: Sequence[Discovered], tally: Tally
    ) -> int:
        """Store ``outcomes`` and their records, add ``discovered`` URLs (as far as
        ``max_pages`` allows) and ``tally``, all at once; how many URLs were new."""
        ...

    async def renew(self) -> None:
        """Extend the leases on every URL this participant holds."""
        ...

    async def release(self, entries: Sequence[Entry]) -> None:
        """Hand claimed URLs back without counting an attempt (stopping early)."""
        ...

    async def counters(self) -> Counters:
        """The crawl's progress, every participant included."""
        ...

    async def note(self, **stats: Any) -> None:
        """Merge ``stats`` into the crawl's free-form statistics (``Counters.extra``)."""
        ...
