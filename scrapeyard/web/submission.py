"""The "new job" form: its fields, the job it makes, and errors shown beside their field.

The form only turns text into JSON values (numbers, lists, a selectors object), and
passes on as typed any text that is no number. Every rule about what a scrape or crawl
may ask is the job kind's own validator, which runs when the job is enqueued through
the store, exactly as for ``POST /v1/crawl``. Its ``InvalidInput`` names the payload
field (``include_paths[1]``, ``rate_limit.burst``, ``selectors.price``); ``field_of``
finds the form control it belongs to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapeyard import errors
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.web.forms import Form

KINDS = ("crawl", "scrape")
FORMATS = (
    ("metadata", "Metadata", "title, description, canonical, Open Graph"),
    ("markdown", "Markdown", "the main content"),
    ("text", "Text", "the main text"),
    ("html", "HTML", "the raw page"),
    ("links", "Links", "absolute, de-duplicated"),
    ("jsonld", "JSON-LD", "structured data"),
    ("contacts", "Contacts", "e-mail addresses, phones, social profiles"),
)
DEFAULT_FORMATS = ("metadata", "markdown")
CRAWL_ONLY = ("max_pages", "max_depth", "include_paths", "exclude_paths")
TEXT_FIELDS = (
    "kind",
    "urls",
    "max_pages",
    "max_depth",
    "include_paths",
    "exclude_paths",
    "selectors",
    "rps",
    "burst",
    "queue",
    "priority",
)

# Payload fields (the validator's names) -> the form control that edits them.
_CONTROLS = {
    "url": "urls",
    "urls": "urls",
    "max_pages": "max_pages",
    "max_depth": "max_depth",
    "include_paths": "include_paths",
    "exclude_paths": "exclude_paths",
    "formats": "formats",
    "selectors": "selectors",
    "rate_limit.requests_per_second": "rps",
    "rate_limit.burst": "burst",
    "rate_limit": "rps",
    "respect_robots": "respect_robots",
    "queue": "queue",
    "priority": "priority",
    "kind": "kind",
}


@dataclass
class Submission:
    """What was typed, and what is wrong with it, per form control."""

    values: dict[str, str] = field(default_factory=dict)
    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    respect_robots: bool = True
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls) -> Submission:
        return cls(values={"kind": "crawl", "max_pages": "100", "max_depth": "3"})

    @classmethod
    def of(cls, form: Form) -> Submission:
        return cls(
            values={name: form.get(name).strip() for name in TEXT_FIELDS},
            formats=form.getlist("formats"),
            respect_robots=form.has("respect_robots"),
        )

    @property
    def kind(self) -> str:
        return self.values.get("kind", "crawl")

    def fail(self, control: str, message: str) -> None:
        self.errors.setdefault(control, message)


def field_of(path: str) -> str | None:
    """The form control a validator's field path belongs to, if any."""
    if path in _CONTROLS:
        return _CONTROLS[path]
    root = re.split(r"[.\[]", path, maxsplit=1)[0]
    return _CONTROLS.get(root)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(sub: Submission, control: str) -> int | float | str | None:
    """The control's number, or its text as typed for the validator to refuse in its words."""
    text = sub.values.get(control, "")
    if not text:
        return None
    cleaned = text.replace(",", "").replace("_", "")
    for parse in (int, float):
        try:
            value = parse(cleaned)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            break
        return value
    return text


def _selectors(sub: Submission) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for number, line in enumerate(_lines(sub.values.get("selectors", "")), start=1):
        name, equals, selector = line.partition("=")
        if not equals or not name.strip() or not selector.strip():
            sub.fail("selectors", f"selectors: line {number} must read NAME = SELECTOR")
            continue
        chosen[name.strip()] = selector.strip()
    return chosen


def payload(sub: Submission) -> dict[str, Any]:
    """The job payload the form describes; conversion problems go to ``sub.errors``."""
    if sub.kind not in KINDS:
        sub.fail("kind", "kind: must be crawl or scrape")
    data: dict[str, Any] = {}
    urls = _lines(sub.values.get("urls", ""))
    if len(urls) == 1:
        data["url"] = urls[0]
    elif urls:
        data["urls"] = urls
    if sub.kind == "crawl":
        for name in ("max_pages", "max_depth"):
            value = _number(sub, name)
            if value is not None:
                data[name] = value
        for name in ("include_paths", "exclude_paths"):
            patterns = _lines(sub.values.get(name, ""))
            if patterns:
                data[name] = patterns
    selectors = _selectors(sub)
    formats = [name for name in sub.formats if name]
    if selectors:
        data["selectors"] = selectors
        formats = [*formats, "selectors"] if formats else []
    if formats or not selectors:
        data["formats"] = formats
    rate: dict[str, Any] = {}
    rps = _number(sub, "rps")
    burst = _number(sub, "burst")
    if rps is not None:
        rate["requests_per_second"] = rps
    if burst is not None:
        rate["burst"] = burst
    if rate:
        data["rate_limit"] = rate
    if not sub.respect_robots:
        data["respect_robots"] = False
    return data


def job_spec(sub: Submission) -> JobSpec | None:
    """The job to enqueue, or ``None`` with ``sub.errors`` saying why not.

    The store's enqueue runs the kind's validator; its ``InvalidInput`` goes to
    ``record`` below.
    """
    data = payload(sub)
    priority = priority_of(sub)
    if sub.errors:
        return None
    try:
        return JobSpec(
            sub.kind,
            data,
            queue=sub.values.get("queue") or None,
            priority=priority,
        )
    except errors.InvalidInput as exc:
        record(sub, exc)
        return None


def priority_of(sub: Submission) -> int | None:
    """The priority typed, if any; a problem goes to ``sub.errors``."""
    text = sub.values.get("priority", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        sub.fail("priority", "priority: must be an integer")  # as JobSpec says it
        return None


def record(sub: Submission, exc: errors.InvalidInput) -> None:
    """Show a validator's error beside the control it is about (or above the form)."""
    sub.fail(field_of(exc.field) or "form", exc.message)


def checked(sub: Submission) -> Mapping[str, bool]:
    return {name: name in sub.formats for name, _label, _hint in FORMATS}
