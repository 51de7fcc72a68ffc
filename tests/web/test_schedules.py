"""The Schedules pages in a real browser, against a real ``scrapeyard serve`` on each backend."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from playwright.sync_api import Page, expect

from scrapeyard import connect
from scrapeyard.queue.schedules import Fired, ScheduleStore
from tests.support.waiting import until_sync
from tests.web.conftest import Dashboard, Login, Sites, run, screenshot

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _name() -> str:
    return f"sched-{uuid.uuid4().hex[:6]}"


def create(dashboard: Dashboard, **fields: Any) -> dict[str, Any]:
    """A schedule made through the API (which the dashboard must show alike)."""
    when = {} if "every" in fields else {"cron": "0 6 * * *"}
    body = {"name": _name(), **when, "job": {"kind": "noop"}, **fields}
    with dashboard.api() as api:
        response = api.post("/v1/schedules", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def schedule(dashboard: Dashboard, schedule_id: int) -> dict[str, Any] | None:
    with dashboard.api() as api:
        response = api.get(f"/v1/schedules/{schedule_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _fire_due(database_url: str, now: datetime) -> list[Fired]:
    async with connect.open_store(database_url=database_url, pool_size=1) as store:
        return await ScheduleStore(store).fire_due(now=now)


def fill_crawl_schedule(page: Page, dashboard: Dashboard, name: str, url: str) -> None:
    page.goto(f"{dashboard.url}/schedules/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Cron expression").fill("0 6 * * *")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("URLs", exact=True).fill(url)
    page.get_by_label("Max pages").fill("500")
    page.get_by_label("Include paths").fill("/blog/*")


def test_a_crawl_schedule_made_from_the_form_is_listed_paused_resumed_and_deleted(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    name = _name()
    url = sites.fast.url("/")
    page = login(dashboard.write_key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedules").click()
    page.wait_for_url(f"{dashboard.url}/schedules")
    page.get_by_role("link", name="New schedule").click()
    page.wait_for_url(f"{dashboard.url}/schedules/new")
    fill_crawl_schedule(page, dashboard, name, url)
    page.get_by_role("button", name="Create schedule").click()

    page.wait_for_url(re.compile(r"/schedules/\d+$"))
    schedule_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator(".flash")).to_have_text(f"Schedule {name} created.")
    expect(page.locator("main h1")).to_contain_text(name)
    expect(page.get_by_text("0 6 * * * (Europe/Berlin)")).to_be_visible()
    expect(page.locator("ol.upcoming time")).to_have_count(5)
    made = schedule(dashboard, schedule_id)
    assert made is not None
    assert (made["cron"], made["timezone"], made["job"]["kind"]) == (
        "0 6 * * *",
        "Europe/Berlin",
        "crawl",
    )
    payload = made["job"]["payload"]
    assert (payload["url"], payload["max_pages"], payload["include_paths"]) == (
        url,
        500,
        ["/blog/*"],
    )
    assert payload["formats"] == ["metadata", "markdown"]  # the form's defaults
    assert "respect_robots" not in payload  # obeyed, as by default
    expect(page.locator("pre.code")).to_contain_text('"max_pages": 500')
    # Times are shown in the viewer's time zone, by the page's script.
    first = page.locator("ol.upcoming time").first
    assert first.get_attribute("datetime") == made["next_fire_times"][0].replace("+00:00", "Z")
    expect(first).to_have_attribute("title", re.compile(r"shown in"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedules").click()
    row = page.locator(f'tr[data-schedule="{name}"]')
    expect(row).to_contain_text("0 6 * * * (Europe/Berlin)")
    expect(row).to_contain_text("crawl")
    expect(row).to_contain_text(url)
    expect(row.locator("td[data-label=state] .badge")).to_have_text("active")

    row.get_by_role("button", name="Pause").click()
    expect(page.locator(".flash")).to_contain_text(f"Schedule {name} paused")
    expect(row.locator("td[data-label=state] .badge")).to_have_text("paused")
    expect(row.locator("td[data-label=next]")).to_have_text("paused")
    assert (schedule(dashboard, schedule_id) or {}).get("paused") is True

    row.get_by_role("button", name="Resume").click()
    expect(page.locator(".flash")).to_contain_text(f"Schedule {name} resumed")
    expect(row.locator("td[data-label=state] .badge")).to_have_text("active")
    assert (schedule(dashboard, schedule_id) or {}).get("paused") is False

    # Deleting asks first; dismissing keeps the schedule.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()
    assert schedule(dashboard, schedule_id) is not None
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash")).to_contain_text(f"Schedule {name} deleted")
    expect(row).to_have_count(0)
    assert schedule(dashboard, schedule_id) is None


def test_an_interval_schedule_of_any_kind_takes_a_json_payload(
    login: Login, dashboard: Dashboard
) -> None:
    name = _name()
    page = login(dashboard.write_key)
    page.goto(f"{dashboard.url}/schedules/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Interval").check()
    expect(page.get_by_label("Cron expression")).to_be_hidden()
    page.get_by_label("Every", exact=True).fill("6h")
    page.get_by_label("Another kind").check()
    expect(page.get_by_label("URLs", exact=True)).to_be_hidden()
    page.get_by_label("Job kind", exact=True).fill("noop")
    page.get_by_label("Payload", exact=True).fill('{"sleep": 0, "note": "from the form"}')
    page.get_by_label("Queue", exact=True).fill("scheduled")
    page.get_by_role("radio", name=re.compile("^Run once")).check()
    page.get_by_role("radio", name=re.compile("^Allow")).check()
    page.get_by_role("button", name="Create schedule").click()

    page.wait_for_url(re.compile(r"/schedules/\d+$"))
    made = schedule(dashboard, int(page.url.rsplit("/", 1)[1]))
    assert made is not None
    assert (made["interval"], made["description"]) == (21600.0, "every 6h")
    assert made["job"] == {
        "kind": "noop",
        "payload": {"sleep": 0, "note": "from the form"},
        "queue": "scheduled",
        "priority": None,
        "max_attempts": None,
    }
    assert (made["missed"], made["overlap"]) == ("run_once", "allow")
    expect(page.locator("main")).to_contain_text("Run once")


def test_bad_input_is_shown_beside_its_field_with_what_was_typed_kept(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    name = _name()
    url = sites.fast.url("/")
    page = login(dashboard.write_key)
    fill_crawl_schedule(page, dashboard, name, url)
    page.get_by_label("Cron expression").fill("61 * * * *")
    page.get_by_role("button", name="Create schedule").click()

    with dashboard.api(dashboard.write_key) as api:
        refused = api.post(
            "/v1/schedules", json={"name": name, "cron": "61 * * * *", "job": {"kind": "noop"}}
        )
    assert refused.status_code == 422
    cron = page.get_by_label("Cron expression")
    expect(page.locator("#cron-error")).to_have_text(refused.json()["error"]["message"])
    expect(cron).to_have_attribute("aria-invalid", "true")
    expect(cron).to_be_focused()
    expect(cron).to_have_value("61 * * * *")
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    expect(page.get_by_label("URLs", exact=True)).to_have_value(url)
    expect(page.get_by_label("Max pages")).to_have_value("500")
    expect(page.get_by_label("Include paths")).to_have_value("/blog/*")
    expect(page.locator("[role=alert]")).to_contain_text("1 problem below")
    screenshot(page, dashboard, "new-schedule-errors")
    assert page.evaluate(OVERFLOW) <= 0

    # The crawl's own validator speaks for its fields: the URL's error is beside the URLs.
    cron.fill("0 6 * * *")
    page.get_by_label("URLs", exact=True).fill("ftp://example.com/")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#urls-error")).to_contain_text("url")
    expect(page.get_by_label("URLs", exact=True)).to_be_focused()
    expect(page.locator("#cron-error")).to_have_count(0)

    # A taken name, an unknown kind, a payload that is no object: each beside its field.
    taken = create(dashboard)["name"]
    page.get_by_label("Name", exact=True).fill(taken)
    page.get_by_label("URLs", exact=True).fill(url)
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#name-error")).to_contain_text(f"a schedule named '{taken}' exists")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Another kind").check()
    page.get_by_label("Job kind", exact=True).fill("no.such.kind")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#job_kind-error")).to_contain_text("unknown job kind 'no.such.kind'")
    expect(page.get_by_label("Job kind", exact=True)).to_have_value("no.such.kind")
    page.get_by_label("Job kind", exact=True).fill("noop")
    page.get_by_label("Payload", exact=True).fill("[1, 2]")
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#payload-error")).to_have_text(
        'payload: must be a JSON object, e.g. {"sleep": 1}'
    )
    expect(page.get_by_label("Payload", exact=True)).to_have_value("[1, 2]")
    with dashboard.api() as api:
        names = [s["name"] for s in api.get("/v1/schedules").json()]
    assert name not in names


def test_a_read_key_sees_schedules_and_no_buttons(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    url = sites.fast.url("/")
    made = create(dashboard, job={"kind": "crawl", "payload": {"url": url}})
    page = login(dashboard.read_key)
    page.goto(f"{dashboard.url}/schedules")
    row = page.locator(f'tr[data-schedule="{made["name"]}"]')
    expect(row).to_contain_text(url)
    expect(page.get_by_role("link", name="New schedule")).to_have_count(0)
    assert page.locator("main form").count() == 0
    page.get_by_role("link", name=made["name"]).click()
    expect(page.locator("main h1")).to_contain_text(made["name"])
    assert page.locator("main form").count() == 0
    assert page.get_by_role("button", name=re.compile("Pause|Resume|Delete")).count() == 0

    # With a valid CSRF token, the scope still refuses.
    token = page.locator('form[action="/logout"] input[name="csrf"]').get_attribute("value")
    assert token
    for action in ("pause", "delete"):
        response = page.request.post(
            f"{dashboard.url}/schedules/{made['id']}/{action}", form={"csrf": token}
        )
        assert response.status == 403
        assert "scope" in response.text()
    refused = page.request.post(
        f"{dashboard.url}/schedules/new",
        form={"csrf": token, "name": _name(), "cron": "0 6 * * *", "kind": "other"},
    )
    assert refused.status == 403
    assert page.request.get(f"{dashboard.url}/schedules/new").status == 403
    assert (schedule(dashboard, made["id"]) or {}).get("paused") is False


def test_forged_schedule_posts_without_the_csrf_token_are_refused(
    login: Login, dashboard: Dashboard
) -> None:
    made = create(dashboard)
    page = login()
    for action in ("pause", "delete"):
        target = f"{dashboard.url}/schedules/{made['id']}/{action}"
        assert page.request.post(target, form={}).status == 403
        assert page.request.post(target, form={"csrf": "forged"}).status == 403
    assert page.request.post(f"{dashboard.url}/schedules/new", form={"name": "x"}).status == 403
    assert (schedule(dashboard, made["id"]) or {}).get("paused") is False


def test_a_fired_schedule_lists_its_run_with_a_link_to_its_job(
    login: Login, dashboard: Dashboard
) -> None:
    made = create(dashboard, every="1h")
    fire_at = datetime.fromisoformat(made["next_fire_at"])
    fired = run(_fire_due(dashboard.database_url, fire_at))
    [mine] = [f for f in fired if f.schedule_id == made["id"]]
    assert mine.job_id is not None
    with dashboard.api() as api:
        until_sync(
            lambda: api.get(f"/v1/jobs/{mine.job_id}").json()["status"] == "succeeded",
            timeout=30,
        )

    page = login()
    page.goto(f"{dashboard.url}/schedules/{made['id']}")
    runs = page.locator("#schedule-runs tbody tr")
    expect(runs).to_have_count(1)
    expect(runs.locator("time")).to_have_attribute(
        "datetime", fire_at.isoformat().replace("+00:00", "Z")
    )
    expect(runs.locator(".outcome-enqueued")).to_have_text("enqueued")
    expect(runs.locator(".badge.status-succeeded")).to_have_text("succeeded")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) <= 0, f"the schedule at {width}px is too wide"
        screenshot(page, dashboard, "schedule-fired")

    page.goto(f"{dashboard.url}/schedules")
    row = page.locator(f'tr[data-schedule="{made["name"]}"]')
    expect(row.locator("td[data-label=last] time")).to_have_attribute(
        "datetime", fire_at.isoformat().replace("+00:00", "Z")
    )
    expect(row.locator(".badge.status-succeeded")).to_have_text("succeeded")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(OVERFLOW) <= 0, f"the schedules at {width}px are too wide"
        screenshot(page, dashboard, "schedules-fired")
    row.get_by_role("link", name=f"job {mine.job_id}").click()
    page.wait_for_url(f"{dashboard.url}/jobs/{mine.job_id}")
    expect(page.locator("#job-head .badge").first).to_have_text("succeeded")
