"""The "new schedule" form: when it fires, the job it runs, and errors beside their field.

The job is described as on the new-job form (``submission``): a crawl or a scrape by
the same controls, turned into its payload the same way. Any other kind takes its
payload as JSON. The rules are the core's: ``timing`` reads the cron expression, time
zone and interval, and ``ScheduleStore.create`` checks the job with its kind's validator.
Their ``InvalidInput`` names a field (``cron``, ``job.payload.urls[0]``); ``record``
finds the form control it belongs to.
"""

from __future__ import annotations

import functools
import json
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scrapeyard import errors
from scrapeyard.queue import jobs, timing
from scrapeyard.queue.schedules import JobTemplate, MissedPolicy, OverlapPolicy, ScheduleSpec
from scrapeyard.web import submission
from scrapeyard.web.forms import Form

OTHER = "other"
"""The kind choice for any registered kind, whose payload is typed as JSON."""
KINDS = (*submission.KINDS, OTHER)
TEXT_FIELDS = (
    "name",
    "timing",
    "cron",
    "timezone",
    "every",
    "missed",
    "overlap",
    "job_kind",
    "payload",
)
MAX_CRON = 200
MAX_ZONE = 64
MAX_EVERY = 40
MAX_PAYLOAD = 100_000
MISSED = (
    (MissedPolicy.SKIP, "Skip", "run nothing for fire times that passed while nothing fired"),
    (MissedPolicy.RUN_ONCE, "Run once", "run one job for the latest of them"),
)
OVERLAP = (
    (OverlapPolicy.SKIP, "Skip", "while the previous job is unfinished, skip the fire time"),
    (OverlapPolicy.ALLOW, "Allow", "enqueue another job anyway"),
)

# Where the errors of each control are listed, and which one gets the focus: form order.
_ORDER = (
    "form",
    "name",
    "timing",
    "cron",
    "timezone",
    "every",
    "missed",
    "overlap",
    "kind",
    "job_kind",
    "payload",
    "urls",
    "max_pages",
    "max_depth",
    "include_paths",
    "exclude_paths",
    "formats",
    "selectors",
    "rps",
    "burst",
    "respect_robots",
    "queue",
    "priority",
)
_OWN_CONTROLS = frozenset({"name", "timing", "cron", "timezone", "missed", "overlap"})

T = TypeVar("T")
_Policy = TypeVar("_Policy", MissedPolicy, OverlapPolicy)


@dataclass
class Draft:
    """What was typed: the schedule's own fields, and its job as the new-job form has it.

    Errors of every control are kept in ``job.errors``, which the form's templates read.
    """

    values: dict[str, str] = field(default_factory=dict)
    job: submission.Submission = field(default_factory=submission.Submission.blank)

    @classmethod
    def blank(cls) -> Draft:
        return cls(
            values={
                "timing": "cron",
                "missed": str(MissedPolicy.SKIP),
                "overlap": str(OverlapPolicy.SKIP),
                "payload": "{}",
            }
        )

    @classmethod
    def of(cls, form: Form) -> Draft:
        return cls(
            values={name: form.get(name).strip() for name in TEXT_FIELDS},
            job=submission.Submission.of(form),
        )

    @property
    def kind(self) -> str:
        return self.job.kind

    @property
    def errors(self) -> dict[str, str]:
        return self.job.errors

    def fail(self, control: str, message: str) -> None:
        self.job.fail(control, message)


@functools.cache
def time_zones() -> list[str]:
    """The IANA time zone names this machine knows, for the form's suggestions."""
    return sorted(zoneinfo.available_timezones())


def schedule_spec(draft: Draft) -> ScheduleSpec | None:
    """The schedule to create, or ``None`` with ``draft.errors`` saying why not.

    ``ScheduleStore.create`` then checks the job with its kind's validator; its
    ``InvalidInput`` goes to ``record``.
    """
    # The job first: ``submission.job_spec`` stops at any error already recorded.
    template = _template(draft)
    name = _attempt(draft, lambda: jobs.validate_name("name", draft.values.get("name", "")))
    when = _timing(draft)
    missed = _choice(draft, "missed", MissedPolicy)
    overlap = _choice(draft, "overlap", OverlapPolicy)
    spec = None
    if (
        name is not None
        and when is not None
        and template is not None
        and missed is not None
        and overlap is not None
        and not draft.errors
    ):
        spec = _attempt(
            draft, lambda: ScheduleSpec(name, when, template, missed=missed, overlap=overlap)
        )
    _in_form_order(draft)
    return spec


def record(draft: Draft, exc: errors.InvalidInput) -> None:
    """Show an error beside the control it is about (or above the form)."""
    control, shown = _control_of(exc.field, crawl_like=draft.kind in submission.KINDS)
    draft.fail(control, f"{shown}: {exc.problem}")
    _in_form_order(draft)


def name_taken(draft: Draft, exc: errors.ScheduleConflict) -> None:
    draft.fail("name", f"name: {exc.message}")
    _in_form_order(draft)


def _control_of(path: str, *, crawl_like: bool) -> tuple[str, str]:
    """The control for a field path of the core's, and the path as the form shows it."""
    if path in _OWN_CONTROLS:
        return path, path
    if path in ("every", "interval"):
        return "every", "every"
    if path.startswith("job."):
        inner = path.removeprefix("job.")
        if inner == "kind":
            return ("kind" if crawl_like else "job_kind"), inner
        if inner in ("queue", "priority"):
            return inner, inner
        if inner == "payload" or inner.startswith(("payload.", "payload[")):
            if not crawl_like:
                return "payload", inner
            # A crawl's payload fields are the new-job form's: shown as it shows them.
            within = inner.removeprefix("payload").removeprefix(".")
            return submission.field_of(within) or "form", within or inner
        return "form", inner
    return "form", path


def _attempt(draft: Draft, make: Callable[[], T]) -> T | None:
    try:
        return make()
    except errors.InvalidInput as exc:
        record(draft, exc)
        return None


def _choice(draft: Draft, name: str, policy: type[_Policy]) -> _Policy | None:
    try:
        return policy(draft.values.get(name) or "skip")
    except ValueError:
        allowed = ", ".join(str(member) for member in policy)
        draft.fail(name, f"{name}: must be one of: {allowed}")
        return None


def _timing(draft: Draft) -> timing.Timing | None:
    values = draft.values
    chosen = values.get("timing") or "cron"
    if chosen == "every":
        text = values.get("every", "")
        if not text:
            draft.fail("every", "every: give an interval, e.g. 90s, 15m, 2h or 1d")
            return None
        if len(text) > MAX_EVERY:
            draft.fail("every", f"every: must be at most {MAX_EVERY} characters")
            return None
        seconds = _attempt(draft, lambda: timing.parse_every(text))
        return None if seconds is None else timing.Timing(interval=seconds)
    if chosen != "cron":
        draft.fail("timing", "timing: choose a cron expression or an interval")
        return None
    expression = values.get("cron", "")
    zone = values.get("timezone") or "UTC"
    before = len(draft.errors)
    if not expression:
        draft.fail("cron", "cron: give a cron expression, e.g. 0 6 * * *")
    elif len(expression) > MAX_CRON:
        draft.fail("cron", f"cron: must be at most {MAX_CRON} characters")
    else:
        _attempt(draft, lambda: timing.check_cron(expression))
    if len(zone) > MAX_ZONE:
        draft.fail("timezone", f"timezone: must be at most {MAX_ZONE} characters")
    else:
        _attempt(draft, lambda: timing.zone(zone))
    if len(draft.errors) > before:
        return None
    return _attempt(draft, lambda: timing.Timing(cron=expression, timezone=zone))


def _template(draft: Draft) -> JobTemplate | None:
    if draft.kind in submission.KINDS:
        spec = submission.job_spec(draft.job)
        if spec is None:
            return None
        return JobTemplate(spec.kind, spec.payload, queue=spec.queue, priority=spec.priority)
    if draft.kind != OTHER:
        draft.fail("kind", "kind: choose crawl, scrape or another kind")
        return None
    kind = draft.values.get("job_kind", "")
    if not kind:
        draft.fail("job_kind", "kind: name a registered job kind, e.g. noop")
    payload = _payload(draft)
    priority = submission.priority_of(draft.job)
    queue = draft.job.values.get("queue") or None
    if not kind or payload is None:
        return None
    spec = _attempt(draft, lambda: jobs.JobSpec(kind, payload, queue=queue, priority=priority))
    if spec is None:
        return None
    return JobTemplate(spec.kind, spec.payload, queue=spec.queue, priority=spec.priority)


def _payload(draft: Draft) -> dict[str, Any] | None:
    text = draft.values.get("payload") or "{}"
    if len(text) > MAX_PAYLOAD:
        draft.fail("payload", f"payload: must be at most {MAX_PAYLOAD:,} characters")
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        draft.fail("payload", f"payload: not JSON: {exc.msg} ({where})")
        return None
    except RecursionError:
        draft.fail("payload", "payload: nested too deeply")
        return None
    if not isinstance(value, dict):
        draft.fail("payload", 'payload: must be a JSON object, e.g. {"sleep": 1}')
        return None
    problem = _unstorable(value)
    if problem:
        draft.fail("payload", f"payload: {problem}")
        return None
    return value


def _unstorable(value: Any) -> str | None:
    """Why a database could not store this JSON, if it could not."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            # PostgreSQL's jsonb refuses \u0000; no database stores a lone surrogate.
            if "\x00" in item:
                return "strings must not contain NUL characters (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "strings must be valid Unicode text"
    return None


def _in_form_order(draft: Draft) -> None:
    found = dict(draft.errors)
    rank = {control: i for i, control in enumerate(_ORDER)}
    draft.errors.clear()
    draft.errors.update(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))
