"""The Webhooks pages in a real browser, against a real ``scrapeyard serve`` on each backend.

Deliveries go to a receiver on loopback (``tests.notify.support.Receiver``, which checks
every signature with a Standard Webhooks library), sent by the server's own worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.notify import support
from tests.sites import server
from tests.support.waiting import until_sync
from tests.web import webhook_events
from tests.web.conftest import Dashboard, Login, screenshot

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def receivers() -> Iterator[server.ServerThread]:
    with server.server_thread() as servers:
        yield servers


@pytest.fixture
def hooked(receivers: server.ServerThread) -> tuple[support.Receiver, server.Served]:
    """A receiver of this test's own (so that no other test's deliveries reach it)."""
    receiver = support.Receiver("whsec_not_known_yet")
    return receiver, receivers.serve(receiver.app())


def finished_job(dashboard: Dashboard) -> int:
    """A ``noop`` job, once it has succeeded (so that it emits nothing more itself)."""
    with dashboard.api() as api:
        made = api.post("/v1/jobs", json={"kind": "noop"})
        assert made.status_code == 202, made.text
        job_id = int(made.json()["id"])
        until_sync(
            lambda: api.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded", timeout=30
        )
    return job_id


def webhook(dashboard: Dashboard, webhook_id: int) -> dict[str, Any] | None:
    with dashboard.api() as api:
        response = api.get(f"/v1/webhooks/{webhook_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def settled(dashboard: Dashboard, delivery_id: int, *, attempts: int) -> bool:
    """Whether the delivery succeeded at its ``attempts``-th attempt."""
    found = webhook_events.delivery(dashboard, delivery_id)
    return bool(found["status"] == "succeeded" and found["attempts"] == attempts)


def subscribe_from_the_form(page: Page, dashboard: Dashboard, url: str, job_id: int) -> int:
    """Fill in and send the form: ``job.succeeded`` and ``job.failed`` about one job."""
    page.goto(f"{dashboard.url}/webhooks")
    page.get_by_label("URL", exact=True).fill(url)
    page.get_by_label("job.succeeded").check()
    page.get_by_label("job.failed").check()
    page.get_by_label("One job").check()
    page.get_by_label("Job id").fill(str(job_id))
    page.get_by_label("Description").fill("from the dashboard test")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile(r"/webhooks/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_a_url_subscribed_from_the_form_shows_its_secret_once_and_is_deleted(
    login: Login, dashboard: Dashboard, hooked: tuple[support.Receiver, server.Served]
) -> None:
    _, site = hooked
    url = site.url("/hook")
    job_id = finished_job(dashboard)
    page = login(dashboard.write_key)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Webhooks").click()
    page.wait_for_url(f"{dashboard.url}/webhooks")
    expect(nav.get_by_role("link", name="Webhooks")).to_have_attribute("aria-current", "page")
    # The job's field applies only while "One job" is chosen.
    expect(page.get_by_label("Job id")).to_be_hidden()
    hook_id = subscribe_from_the_form(page, dashboard, url, job_id)

    expect(page.locator(".flash")).to_have_text(
        f"Webhook {hook_id} created: job.succeeded, job.failed go to {url}."
    )
    expect(page.locator(".secret-card")).to_contain_text("Copy it now: it is not shown again.")
    secret = page.locator("#webhook-secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret), secret
    made = webhook(dashboard, hook_id)
    assert made is not None
    assert (made["url"], made["events"], made["scope"], made["scope_id"]) == (
        url,
        ["job.succeeded", "job.failed"],
        "job",
        job_id,
    )
    assert made["description"] == "from the dashboard test" and "secret" not in made
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(url)
    expect(facts.get_by_role("link", name=f"job {job_id}")).to_have_attribute(
        "href", f"/jobs/{job_id}"
    )
    expect(page.locator("#webhook-deliveries")).to_contain_text("None yet")
    screenshot(page, dashboard, "webhook-created")

    # Shown once: a reload (or any later visit) has it no more.
    page.reload()
    expect(page.locator("main h1")).to_contain_text(f"Webhook {hook_id}")
    expect(page.locator("#webhook-secret")).to_have_count(0)
    assert secret not in page.content()
    assert not [c for c in page.context.cookies() if c["name"] == "scrapeyard_reveal"]

    nav.get_by_role("link", name="Webhooks").click()
    row = page.locator(f'tr[data-webhook="{hook_id}"]')
    expect(row.locator("td[data-label=url]")).to_have_text(url)
    expect(row.locator("td[data-label=events] code")).to_have_text(["job.succeeded", "job.failed"])
    expect(row.locator("td[data-label=scope] a")).to_have_attribute("href", f"/jobs/{job_id}")
    expect(row.locator("td[data-label=scope] .badge")).to_have_text("succeeded")
    expect(row.locator("td[data-label=state]")).to_have_text("active")
    expect(row.locator("td[data-label=latest]")).to_have_text("none yet")
    created = row.locator("td[data-label=created] time")
    assert created.get_attribute("datetime") == made["created_at"][:19] + "Z"
    expect(created).to_have_attribute("title", re.compile("shown in"))
    assert secret not in page.content()

    # Deleting asks first; dismissing keeps the webhook.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()
    assert webhook(dashboard, hook_id) is not None
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash")).to_contain_text(f"Webhook {hook_id} deleted")
    expect(row).to_have_count(0)
    assert webhook(dashboard, hook_id) is None
    gone = page.goto(f"{dashboard.url}/webhooks/{hook_id}")
    assert gone is not None and gone.status == 404


def test_bad_input_is_shown_beside_its_field_with_what_was_typed_kept(
    login: Login, dashboard: Dashboard
) -> None:
    with dashboard.api() as api:
        before = api.get("/v1/webhooks").json()["webhooks"]
    page = login(dashboard.write_key)
    page.goto(f"{dashboard.url}/webhooks")
    url = page.get_by_label("URL", exact=True)
    url.fill("ftp://example.com/hook")
    page.get_by_label("Description").fill("typed by hand")
    page.get_by_role("button", name="Subscribe").click()

    expect(page.locator("#url-error")).to_have_text("url: must be an http or https URL")
    expect(page.locator("#events-error")).to_contain_text("events: name at least one of: job.")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(url).to_be_focused()
    expect(url).to_have_value("ftp://example.com/hook")
    expect(page.get_by_label("Description")).to_have_value("typed by hand")
    expect(page.locator("[role=alert]")).to_contain_text("2 problems below")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) <= 0, f"the form at {width}px is too wide"
        screenshot(page, dashboard, "webhooks-errors")

    # An unknown job: the API's own words, beside the job's field.
    url.fill("https://example.com/hook")
    page.get_by_label("job.failed").check()
    page.get_by_label("One job").check()
    job = page.get_by_label("Job id")
    job.fill("999999999")
    page.get_by_role("button", name="Subscribe").click()
    with dashboard.api(dashboard.write_key) as api:
        refused = api.post(
            "/v1/webhooks",
            json={"url": "https://example.com/hook", "events": ["job.failed"], "job_id": 999999999},
        )
    assert refused.status_code == 404
    expect(page.locator("#job_id-error")).to_have_text(refused.json()["error"]["message"])
    expect(job).to_be_focused()
    expect(job).to_have_value("999999999")
    expect(page.get_by_label("job.failed")).to_be_checked()
    expect(page.get_by_label("job.succeeded")).not_to_be_checked()
    expect(page.get_by_label("One job")).to_be_checked()
    expect(url).to_have_value("https://example.com/hook")
    expect(page.locator("#url-error")).to_have_count(0)
    expect(page.locator("#events-error")).to_have_count(0)

    job.fill("forty-two")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#job_id-error")).to_contain_text("job_id: must be a whole number")
    page.get_by_label("One schedule").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#schedule_id-error")).to_have_text("schedule_id: choose a schedule")
    expect(page.get_by_label("Schedule", exact=True)).to_be_focused()
    with dashboard.api() as api:
        assert api.get("/v1/webhooks").json()["webhooks"] == before


def test_a_read_key_sees_webhooks_and_no_buttons(
    login: Login, dashboard: Dashboard, hooked: tuple[support.Receiver, server.Served]
) -> None:
    receiver, site = hooked
    job_id = finished_job(dashboard)
    made = webhook_events.subscribe(dashboard, site.url("/hook"), ["job.succeeded"], job_id=job_id)
    receiver.secret = made["secret"]
    [delivery_id] = webhook_events.emit(dashboard, "job.succeeded", job_id)
    until_sync(lambda: settled(dashboard, delivery_id, attempts=1), timeout=30)

    page = login(dashboard.read_key)
    page.goto(f"{dashboard.url}/webhooks")
    row = page.locator(f'tr[data-webhook="{made["id"]}"]')
    expect(row.locator("td[data-label=latest] .badge")).to_have_text("succeeded")
    expect(page.get_by_role("link", name="New webhook")).to_have_count(0)
    expect(page.get_by_role("heading", name="Subscribe a URL")).to_have_count(0)
    assert page.locator("main form").count() == 0
    row.get_by_role("link", name=f"webhook {made['id']}").click()
    expect(page.locator(f'tbody[data-delivery="{delivery_id}"]')).to_be_visible()
    assert page.locator("main form").count() == 0
    assert page.get_by_role("button", name=re.compile("Redeliver|Delete")).count() == 0

    # With a valid CSRF token, the scope still refuses.
    token = page.locator('form[action="/logout"] input[name="csrf"]').get_attribute("value")
    assert token
    hook = f"{dashboard.url}/webhooks/{made['id']}"
    targets = {
        f"{hook}/deliveries/{delivery_id}/redeliver": {},
        f"{hook}/delete": {},
        f"{dashboard.url}/webhooks": {"url": "https://example.com/h", "events": "job.failed"},
    }
    for target, fields in targets.items():
        response = page.request.post(target, form={"csrf": token, **fields})
        assert response.status == 403, target
        assert "scope" in response.text()
    assert webhook(dashboard, made["id"]) is not None
    assert webhook_events.delivery(dashboard, delivery_id)["attempts"] == 1

    # Without this session's CSRF token, even an admin's form is refused.
    admin = login()
    for target in targets:
        assert admin.request.post(target, form={}).status == 403
        assert admin.request.post(target, form={"csrf": "forged"}).status == 403
    assert webhook(dashboard, made["id"]) is not None
    assert len(receiver.snapshot()) == 1


def test_a_delivery_is_redelivered_from_its_page_with_the_same_webhook_id(
    login: Login, dashboard: Dashboard, hooked: tuple[support.Receiver, server.Served]
) -> None:
    receiver, site = hooked
    job_id = finished_job(dashboard)
    page = login(dashboard.write_key)
    hook_id = subscribe_from_the_form(page, dashboard, site.url("/hook"), job_id)
    receiver.secret = page.locator("#webhook-secret").inner_text()

    [delivery_id] = webhook_events.emit(
        dashboard, "job.succeeded", job_id, result={"hello": "world"}
    )
    until_sync(lambda: settled(dashboard, delivery_id, attempts=1), timeout=30)
    [first] = receiver.snapshot()
    assert first.verified  # signed with the secret the page showed
    message_id = first.headers["webhook-id"]
    assert first.message["data"] == {"job": {"id": job_id}, "result": {"hello": "world"}}

    page.reload()
    item = page.locator(f'tbody[data-delivery="{delivery_id}"]')
    expect(item.locator("th")).to_contain_text("job.succeeded")
    expect(item.locator("td[data-label=status] .badge")).to_have_text("succeeded")
    expect(item.locator("td[data-label=attempts]")).to_have_text("1")
    expect(item.locator("td[data-label='last answer']")).to_have_text("HTTP 200")
    expect(item.locator("td[data-label=created] time")).to_have_attribute(
        "datetime", re.compile(r"Z$")
    )
    expect(item.locator("td[data-label=delivered] time")).to_have_count(1)
    attempts = item.locator(".attempt")
    expect(attempts.first).to_be_hidden()
    item.get_by_text("Attempts and message").click()
    expect(attempts).to_have_count(1)
    expect(attempts.first).to_contain_text("HTTP 200")
    expect(attempts.first.locator("pre.excerpt")).to_have_text("thanks")
    expect(attempts.first.locator("time")).to_have_count(1)
    body = item.locator("pre.code")
    expect(body).to_contain_text('"type": "job.succeeded"')
    expect(body).to_contain_text('"hello": "world"')
    expect(item).to_contain_text(message_id)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) <= 0, f"the webhook at {width}px is too wide"
        screenshot(page, dashboard, "webhook-delivered")

    item.get_by_role("button", name="Redeliver").click()
    expect(page.locator(".flash")).to_have_text(
        f"Delivery {delivery_id} (job.succeeded) queued to be sent again, with the same "
        "webhook-id and a fresh signature."
    )
    assert page.url == f"{dashboard.url}/webhooks/{hook_id}"
    until_sync(lambda: len(receiver.snapshot()) == 2, timeout=30)
    again = receiver.snapshot()[1]
    assert again.verified and again.headers["webhook-id"] == message_id
    assert again.message == first.message
    until_sync(lambda: settled(dashboard, delivery_id, attempts=2), timeout=30)
    page.reload()
    expect(item.locator("td[data-label=attempts]")).to_have_text("2")
    item.get_by_text("Attempts and message").click()
    expect(attempts).to_have_count(2)
    expect(attempts.first).to_contain_text("Attempt 2")


def test_deliveries_are_listed_newest_first_a_page_at_a_time(
    login: Login, dashboard: Dashboard, hooked: tuple[support.Receiver, server.Served]
) -> None:
    receiver, site = hooked
    job_id = finished_job(dashboard)
    made = webhook_events.subscribe(dashboard, site.url("/hook"), ["job.page"], job_id=job_id)
    receiver.secret = made["secret"]
    ids = webhook_events.emit(dashboard, "job.page", job_id, times=27, pages=[])
    assert len(ids) == 27

    page = login()
    page.goto(f"{dashboard.url}/webhooks/{made['id']}")
    items = page.locator("tbody.delivery")
    expect(items).to_have_count(25)
    shown = [int(i or 0) for i in items.evaluate_all("els => els.map(e => e.dataset.delivery)")]
    assert shown == sorted(ids, reverse=True)[:25]
    expect(page.get_by_role("link", name="Newest")).to_have_count(0)
    page.get_by_role("link", name="Older deliveries").click()
    page.wait_for_url(f"{dashboard.url}/webhooks/{made['id']}?before={shown[-1]}")
    expect(items).to_have_count(2)
    rest = [int(i or 0) for i in items.evaluate_all("els => els.map(e => e.dataset.delivery)")]
    assert rest == sorted(ids, reverse=True)[25:]
    expect(page.get_by_role("link", name="Older deliveries")).to_have_count(0)

    # Redelivering from an older page comes back to it.
    page.locator(f'tbody[data-delivery="{rest[0]}"]').get_by_role(
        "button", name="Redeliver"
    ).click()
    expect(page.locator(".flash")).to_contain_text(f"Delivery {rest[0]} (job.page)")
    assert page.url == f"{dashboard.url}/webhooks/{made['id']}?before={shown[-1]}"
    page.get_by_role("link", name="Newest").click()
    expect(items).to_have_count(25)
    until_sync(lambda: len(receiver.snapshot()) == 28, timeout=30)
