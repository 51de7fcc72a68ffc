"""The Webhooks page's form: a URL subscribed to events about every job, one schedule or
one job, and errors shown beside their field.

The rules are those of ``POST /v1/webhooks`` and ``scrapeyard webhooks add``: an http(s)
URL with a host, events checked by ``notify.events.check_events``, and a job or schedule
that exists (``JobNotFound`` for a job). Each ``InvalidInput`` names a field (``url``,
``events[0]``, ``schedule_id``); ``record`` finds the form control it belongs to.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from scrapeyard import errors
from scrapeyard.notify import events, signing
from scrapeyard.queue.queries import MAX_ID
from scrapeyard.queue.webhook_records import ScopeName, Webhook
from scrapeyard.queue.webhooks import WebhookStore
from scrapeyard.web.forms import Form

TEXT_FIELDS = ("url", "scope", "schedule_id", "job_id", "description")
MAX_URL = 8192
"""As long a URL as ``POST /v1/webhooks`` takes."""
MAX_DESCRIPTION = 200
"""The width of the ``description`` column."""
EVENTS = (
    ("job.started", "a job starts running"),
    ("job.page", "a crawl stored pages, in batches"),
    ("job.succeeded", "a job succeeded, with its result"),
    ("job.failed", "a job failed for good, with its error"),
    ("schedule.fired", "a schedule enqueued its job"),
    ("dataset.changed", "a dataset took new records"),
)
SCOPES: tuple[tuple[ScopeName, str, str], ...] = (
    ("global", "Every job", "events about any job or schedule"),
    ("schedule", "One schedule", "its fires, and the jobs they enqueue"),
    ("job", "One job", "events about that job alone"),
)

# Where each control's error is listed, and which one gets the focus: form order.
_ORDER = ("form", "url", "events", "scope", "schedule_id", "job_id", "description")

T = TypeVar("T")


@dataclass
class Draft:
    """What was typed, and what is wrong with it, per form control."""

    values: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> Draft:
        return cls(values={"scope": "global"})

    @classmethod
    def of(cls, form: Form) -> Draft:
        return cls(
            values={name: form.get(name).strip() for name in TEXT_FIELDS},
            events=form.getlist("events"),
        )

    def fail(self, control: str, message: str) -> None:
        self.errors.setdefault(control, message)


@dataclass(frozen=True)
class Subscription:
    """What the form asks for, checked but for whether its job or schedule exists."""

    url: str
    events: tuple[str, ...]
    scope: ScopeName
    scope_id: int | None
    description: str | None


def subscription(draft: Draft) -> Subscription | None:
    """The subscription typed in, or ``None`` with ``draft.errors`` saying why not."""
    url = _attempt(draft, lambda: _url(draft.values.get("url", "")))
    names = _attempt(draft, lambda: events.check_events(draft.events))
    scoped = _attempt(draft, lambda: _scope(draft.values))
    description = _attempt(draft, lambda: _description(draft.values.get("description", "")))
    _in_form_order(draft)
    if draft.errors or url is None or names is None or scoped is None:
        return None
    return Subscription(url, names, scoped[0], scoped[1], description)


async def create(hooks: WebhookStore, draft: Draft) -> tuple[Webhook, str] | None:
    """The new subscription and its signing secret, or ``None`` with ``draft.errors``."""
    wanted = subscription(draft)
    if wanted is None:
        return None
    try:
        if wanted.scope == "job" and not await hooks.job_exists(wanted.scope_id or 0):
            raise errors.JobNotFound(wanted.scope_id or 0)
        if wanted.scope == "schedule" and not await hooks.schedule_exists(wanted.scope_id or 0):
            raise errors.InvalidInput("schedule_id", f"no schedule {wanted.scope_id}")
    except errors.InvalidInput as exc:
        record(draft, exc)
        return None
    except errors.JobNotFound as exc:
        draft.fail("job_id", exc.message)
        _in_form_order(draft)
        return None
    secret = signing.new_secret()
    made = await hooks.create(
        wanted.url,
        wanted.events,
        secret,
        scope=wanted.scope,
        scope_id=wanted.scope_id,
        description=wanted.description,
    )
    return made, secret


def record(draft: Draft, exc: errors.InvalidInput) -> None:
    """Show an error beside the control it is about (or above the form)."""
    control = exc.field.split("[", 1)[0].split(".", 1)[0]
    draft.fail(control if control in _ORDER else "form", exc.message)
    _in_form_order(draft)


def _attempt(draft: Draft, make: Callable[[], T]) -> T | None:
    try:
        return make()
    except errors.InvalidInput as exc:
        record(draft, exc)
        return None


def _url(text: str) -> str:
    if not text:
        raise errors.InvalidInput("url", "give the http or https URL to POST the events to")
    if len(text) > MAX_URL:
        raise errors.InvalidInput("url", f"must be at most {MAX_URL:,} characters")
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
    else:
        if parts.scheme.lower() not in ("http", "https"):
            host = None
    if not host:
        raise errors.InvalidInput("url", "must be an http or https URL")
    return text


def _scope(values: dict[str, str]) -> tuple[ScopeName, int | None]:
    chosen = values.get("scope") or "global"
    if chosen == "global":
        return "global", None
    if chosen == "schedule":
        return "schedule", _object_id(values, "schedule_id", "choose a schedule")
    if chosen == "job":
        return "job", _object_id(values, "job_id", "give a job id, e.g. 42")
    raise errors.InvalidInput("scope", "choose every job, one schedule or one job")


def _object_id(values: dict[str, str], name: str, missing: str) -> int:
    text = values.get(name, "")
    if not text:
        raise errors.InvalidInput(name, missing)
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
        raise errors.InvalidInput(name, f"must be a whole number from 1 to {MAX_ID}")
    return int(text)


def _description(text: str) -> str | None:
    if not text:
        return None
    if len(text) > MAX_DESCRIPTION:
        raise errors.InvalidInput("description", f"must be at most {MAX_DESCRIPTION} characters")
    return text


def _in_form_order(draft: Draft) -> None:
    found = dict(draft.errors)
    rank = {control: i for i, control in enumerate(_ORDER)}
    draft.errors.clear()
    draft.errors.update(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))
