"""The new-schedule form: the schedule it makes, and where each error goes."""

from __future__ import annotations

import pytest

from scrapeyard import errors
from scrapeyard.queue.schedules import MissedPolicy, OverlapPolicy
from scrapeyard.web import schedule_form
from scrapeyard.web.forms import Form


def drafted(**fields: str | list[str]) -> schedule_form.Draft:
    values = {name: value if isinstance(value, list) else [value] for name, value in fields.items()}
    return schedule_form.Draft.of(Form(values))


CRAWL = {
    "name": "nightly",
    "timing": "cron",
    "cron": "0 6 * * *",
    "timezone": "Europe/Berlin",
    "kind": "crawl",
    "urls": "https://example.com/",
    "max_pages": "500",
    "formats": ["metadata"],
    "respect_robots": "1",
}


def test_a_crawl_schedule_takes_its_job_from_the_new_job_forms_controls() -> None:
    draft = drafted(**CRAWL, include_paths="/blog/*", queue="crawls", priority="3")
    spec = schedule_form.schedule_spec(draft)
    assert draft.errors == {}
    assert spec is not None
    assert (spec.name, spec.timing.cron, spec.timing.timezone) == (
        "nightly",
        "0 6 * * *",
        "Europe/Berlin",
    )
    assert (spec.missed, spec.overlap) == (MissedPolicy.SKIP, OverlapPolicy.SKIP)
    assert spec.job.kind == "crawl"
    assert (spec.job.queue, spec.job.priority) == ("crawls", 3)
    assert spec.job.payload == {
        "url": "https://example.com/",
        "max_pages": 500,
        "include_paths": ["/blog/*"],
        "formats": ["metadata"],
    }


def test_any_other_kind_takes_a_json_payload_and_an_interval() -> None:
    draft = drafted(
        name="ticker",
        timing="every",
        every="1h30m",
        cron="ignored",
        kind="other",
        job_kind="noop",
        payload='{"sleep": 1}',
        urls="ignored",
        missed="run_once",
        overlap="allow",
    )
    spec = schedule_form.schedule_spec(draft)
    assert draft.errors == {}
    assert spec is not None
    assert (spec.timing.interval, spec.timing.cron) == (5400.0, None)
    assert (spec.job.kind, dict(spec.job.payload)) == ("noop", {"sleep": 1})
    assert (spec.missed, spec.overlap) == (MissedPolicy.RUN_ONCE, OverlapPolicy.ALLOW)


def test_an_empty_time_zone_is_utc() -> None:
    spec = schedule_form.schedule_spec(drafted(**{**CRAWL, "timezone": ""}))
    assert spec is not None and spec.timing.timezone == "UTC"


@pytest.mark.parametrize(
    ("fields", "control", "message"),
    [
        ({"name": ""}, "name", "name: must be a non-empty string"),
        ({"cron": ""}, "cron", "cron: give a cron expression, e.g. 0 6 * * *"),
        ({"cron": "61 * * * *"}, "cron", "cron: '61 * * * *' is not a valid cron expression"),
        ({"timezone": "Mars/Olympus"}, "timezone", "timezone: 'Mars/Olympus' is not a known"),
        ({"timezone": "x" * 5000}, "timezone", "timezone: must be at most 64 characters"),
        ({"timing": "every", "every": "soon"}, "every", "every: 'soon' is not an interval"),
        ({"timing": "every", "every": "0s"}, "every", "every: must be between"),
        ({"timing": "every"}, "every", "every: give an interval"),
        ({"missed": "always"}, "missed", "missed: must be one of: skip, run_once"),
        ({"overlap": "never"}, "overlap", "overlap: must be one of: skip, allow"),
        ({"max_pages": "many"}, None, None),  # the crawl's validator, at create
        ({"priority": "high"}, "priority", "priority: must be an integer"),
        ({"kind": "other", "job_kind": ""}, "job_kind", "kind: name a registered job kind"),
        ({"kind": "other", "job_kind": "noop", "payload": "{"}, "payload", "payload: not JSON"),
        ({"kind": "other", "job_kind": "noop", "payload": "[]"}, "payload", "payload: must be"),
        (
            {"kind": "other", "job_kind": "noop", "payload": '{"a": "\\u0000"}'},
            "payload",
            "payload: strings must not contain NUL characters",
        ),
        (
            {"kind": "other", "job_kind": "noop", "payload": '{"a": "\\ud800"}'},
            "payload",
            "payload: strings must be valid Unicode text",
        ),
        ({"kind": "sometimes"}, "kind", "kind: choose crawl, scrape or another kind"),
    ],
)
def test_what_the_form_refuses_is_shown_beside_its_field(
    fields: dict[str, str], control: str | None, message: str | None
) -> None:
    draft = drafted(**{**CRAWL, **fields})
    spec = schedule_form.schedule_spec(draft)
    if control is None:
        assert spec is not None and draft.errors == {}
        return
    assert spec is None
    assert list(draft.errors) == [control]
    assert message is not None and draft.errors[control].startswith(message)


def test_every_problem_is_listed_in_the_order_of_the_form() -> None:
    draft = drafted(**{**CRAWL, "name": "", "cron": "nope", "priority": "x", "selectors": "y"})
    assert schedule_form.schedule_spec(draft) is None
    assert list(draft.errors) == ["name", "cron", "selectors", "priority"]


@pytest.mark.parametrize(
    ("kind", "path", "control", "message"),
    [
        ("crawl", "job.payload.urls[0]", "urls", "urls[0]: bad"),
        ("crawl", "job.payload.url", "urls", "url: bad"),
        ("crawl", "job.payload.rate_limit.burst", "burst", "rate_limit.burst: bad"),
        ("crawl", "job.payload.user_agent", "form", "user_agent: bad"),
        ("crawl", "job.payload", "form", "payload: bad"),
        ("scrape", "job.kind", "kind", "kind: bad"),
        ("other", "job.kind", "job_kind", "kind: bad"),
        ("other", "job.payload.url", "payload", "payload.url: bad"),
        ("other", "job.queue", "queue", "queue: bad"),
        ("other", "job.max_attempts", "form", "max_attempts: bad"),
        ("crawl", "cron", "cron", "cron: bad"),
        ("crawl", "interval", "every", "every: bad"),
        ("crawl", "now", "form", "now: bad"),
    ],
)
def test_the_cores_field_paths_go_to_their_controls(
    kind: str, path: str, control: str, message: str
) -> None:
    draft = drafted(kind=kind)
    schedule_form.record(draft, errors.InvalidInput(path, "bad"))
    assert draft.errors == {control: message}


def test_a_taken_name_is_shown_beside_the_name() -> None:
    draft = drafted(**CRAWL)
    schedule_form.name_taken(draft, errors.ScheduleConflict("a schedule named 'x' exists"))
    assert draft.errors == {"name": "name: a schedule named 'x' exists"}
