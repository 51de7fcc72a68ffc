"""The Webhooks page's form: the subscription it asks for, and where each error goes."""

from __future__ import annotations

import pytest

from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.schedules import JobTemplate, ScheduleSpec, ScheduleStore
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.timing import Timing
from scrapeyard.queue.webhooks import WebhookStore
from scrapeyard.web import webhook_form
from scrapeyard.web.forms import Form


def drafted(**fields: str | list[str]) -> webhook_form.Draft:
    values = {name: value if isinstance(value, list) else [value] for name, value in fields.items()}
    return webhook_form.Draft.of(Form(values))


URL = "https://example.com/hooks/scrapeyard"


def test_a_url_subscribed_to_events_about_every_job() -> None:
    draft = drafted(url=f"  {URL} ", events=["job.failed", "job.succeeded", "job.failed"])
    wanted = webhook_form.subscription(draft)
    assert draft.errors == {}
    assert wanted == webhook_form.Subscription(
        URL, ("job.failed", "job.succeeded"), "global", None, None
    )


def test_a_scope_takes_only_its_own_id() -> None:
    job = drafted(url=URL, events="job.page", scope="job", job_id="42", schedule_id="7")
    assert webhook_form.subscription(job) == webhook_form.Subscription(
        URL, ("job.page",), "job", 42, None
    )
    schedule = drafted(url=URL, events="schedule.fired", scope="schedule", schedule_id="7")
    found = webhook_form.subscription(schedule)
    assert found is not None and (found.scope, found.scope_id) == ("schedule", 7)
    described = drafted(url=URL, events="job.failed", job_id="oops", description=" for CI ")
    found = webhook_form.subscription(described)
    assert found is not None and (found.scope, found.description) == ("global", "for CI")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "url: give the http or https URL to POST the events to"),
        ("ftp://example.com/hook", "url: must be an http or https URL"),
        ("example.com/hook", "url: must be an http or https URL"),
        ("https://", "url: must be an http or https URL"),
        ("http://[::1/hook", "url: must be an http or https URL"),
        ("https://example.com/" + "a" * 8192, "url: must be at most 8,192 characters"),
    ],
)
def test_a_url_must_be_http_or_https_with_a_host(url: str, problem: str) -> None:
    draft = drafted(url=url, events="job.failed")
    assert webhook_form.subscription(draft) is None
    assert draft.errors == {"url": problem}


def test_every_error_is_kept_beside_its_control_in_form_order() -> None:
    draft = drafted(description="x" * 201, scope="job", job_id="0", url="mailto:me@example.com")
    assert webhook_form.subscription(draft) is None
    assert list(draft.errors) == ["url", "events", "job_id", "description"]
    assert draft.errors["events"].startswith("events: name at least one of: job.started")
    assert draft.errors["job_id"] == f"job_id: must be a whole number from 1 to {2**63 - 1}"
    assert draft.errors["description"] == "description: must be at most 200 characters"
    # What was typed stays, to be shown again.
    assert draft.values["url"] == "mailto:me@example.com" and draft.values["job_id"] == "0"


@pytest.mark.parametrize(
    ("fields", "control", "problem"),
    [
        ({"events": "job.exploded"}, "events", "events[0]: unknown event 'job.exploded'"),
        ({"scope": "everything"}, "scope", "scope: choose every job, one schedule or one job"),
        ({"scope": "schedule"}, "schedule_id", "schedule_id: choose a schedule"),
        ({"scope": "job", "job_id": "٤٢"}, "job_id", "job_id: must be a whole number"),
        ({"scope": "job", "job_id": "9" * 20}, "job_id", "job_id: must be a whole number"),
    ],
)
def test_each_refusal_names_its_control(fields: dict[str, str], control: str, problem: str) -> None:
    draft = drafted(**{"url": URL, "events": "job.failed", **fields})
    assert webhook_form.subscription(draft) is None
    assert list(draft.errors) == [control]
    assert draft.errors[control].startswith(problem)


async def test_created_with_a_secret_once_its_job_or_schedule_exists(store: JobStore) -> None:
    hooks = WebhookStore(store.db)
    missing_job = drafted(url=URL, events="job.failed", scope="job", job_id="999")
    assert await webhook_form.create(hooks, missing_job) is None
    assert missing_job.errors == {"job_id": "job 999 not found"}
    missing_schedule = drafted(url=URL, events="job.failed", scope="schedule", schedule_id="5")
    assert await webhook_form.create(hooks, missing_schedule) is None
    assert missing_schedule.errors == {"schedule_id": "schedule_id: no schedule 5"}
    assert await hooks.list_webhooks() == []

    job = await store.enqueue(JobSpec("noop"))
    made = await webhook_form.create(
        hooks, drafted(url=URL, events="job.failed", scope="job", job_id=str(job.id))
    )
    assert made is not None
    hook, secret = made
    assert secret.startswith("whsec_")
    assert (hook.url, hook.events, hook.scope, hook.scope_id) == (
        URL,
        ("job.failed",),
        "job",
        job.id,
    )
    assert await hooks.get(hook.id) == hook

    nightly = await ScheduleStore(store).create(
        ScheduleSpec("nightly", Timing(cron="0 6 * * *"), JobTemplate("noop", {}))
    )
    made = await webhook_form.create(
        hooks,
        drafted(url=URL, events="schedule.fired", scope="schedule", schedule_id=str(nightly.id)),
    )
    assert made is not None and (made[0].scope, made[0].scope_id) == ("schedule", nightly.id)
