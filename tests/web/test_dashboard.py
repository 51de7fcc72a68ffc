"""The dashboard in a real browser, against a real ``scrapeyard serve`` on each backend."""

from __future__ import annotations

import csv
import re
import time
import uuid
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from scrapeyard.queue import keys
from tests.support.waiting import until_sync
from tests.web import webhook_events
from tests.web.conftest import FAST_PAGES, SLOW_PAGES, Dashboard, Login, Sites, screenshot

_STATE = """() => {
  const bar = document.querySelector('#job-progress [role=progressbar]');
  const status = document.querySelector('#job-head .badge');
  return {
    done: bar ? Number(bar.getAttribute('aria-valuenow')) : null,
    status: status ? status.textContent.trim() : null,
    same: window.__sameDocument === true,
    live: document.body.dataset.liveState || null,
  };
}"""


def submit_crawl(
    page: Page, dashboard: Dashboard, url: str, *, max_pages: int, rps: float, burst: int = 10
) -> int:
    """Fill in and submit the new-job form; the id of the job it made."""
    page.goto(f"{dashboard.url}/jobs/new")
    page.get_by_label("URLs", exact=True).fill(url)
    page.get_by_label("Max pages").fill(str(max_pages))
    page.get_by_label("Requests per second").fill(str(rps))
    page.get_by_label("Burst").fill(str(burst))
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def enqueue(dashboard: Dashboard, kind: str, **fields: Any) -> dict[str, Any]:
    with dashboard.api() as api:
        response = api.post("/v1/jobs", json={"kind": kind, **fields})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def job_status(dashboard: Dashboard, job_id: int) -> str:
    with dashboard.api() as api:
        return str(api.get(f"/v1/jobs/{job_id}").json()["status"])


def test_crawl_submitted_from_the_form_runs_live_and_exports_csv(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    page = login()
    job_id = submit_crawl(page, dashboard, sites.fast.url("/"), max_pages=40, rps=10)
    expect(page.locator(".flash")).to_contain_text(f"job {job_id} submitted")
    page.evaluate("window.__sameDocument = true")

    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = page.evaluate(_STATE)
        seen.append(state)
        if state["status"] == "succeeded" and state["live"] == "ended":
            break
        time.sleep(0.05)
    final = seen[-1]
    assert final["status"] == "succeeded", seen[-5:]
    assert final["same"], "the page reloaded"
    assert final["done"] == 40
    moving = sorted({s["done"] for s in seen if s["done"] is not None and 0 < s["done"] < 40})
    assert moving, "the progress bar never showed a crawl under way"
    assert any(s["status"] == "running" for s in seen)

    results = page.locator("#job-results tbody tr")
    expect(results.first).to_be_visible()
    assert results.count() == 10  # a preview; the export has them all
    expect(page.locator("#job-timeline")).to_contain_text("succeeded")
    expect(page.locator("#job-attempts")).to_contain_text("Attempt 1")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    path = download.value.path()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40
    site_pages = {sites.fast.url(p) for p in _tree_paths(FAST_PAGES)}
    assert {row["url"] for row in rows} <= site_pages
    assert len({row["url"] for row in rows}) == 40
    assert {row["status"] for row in rows} == {"200"}
    assert all(row["metadata.title"].startswith("Page ") for row in rows)


def _tree_paths(pages: int) -> set[str]:
    return {"/"} | {f"/p/{i}" for i in range(1, pages)}


def test_a_running_crawl_is_cancelled_from_its_page(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    page = login()
    job_id = submit_crawl(
        page, dashboard, sites.slow.url("/"), max_pages=SLOW_PAGES, rps=2, burst=1
    )
    expect(page.locator("#job-head .badge").first).to_have_text("running", timeout=20_000)
    expect(page.locator("#job-progress [role=progressbar]")).to_be_visible()

    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator(".flash")).to_contain_text(f"Job {job_id}")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#job-head .badge").first).to_have_text("cancelled", timeout=20_000)
    assert page.evaluate("window.__sameDocument === true")
    expect(page.get_by_role("button", name="Retry job")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)

    with dashboard.api() as api:
        job = api.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "cancelled"
    assert job["stats"]["fetched"] < SLOW_PAGES


def test_a_queue_is_paused_and_resumed(login: Login, dashboard: Dashboard) -> None:
    name = f"web-{uuid.uuid4().hex[:6]}"
    enqueue(dashboard, "noop", queue=name)  # no worker serves it: it stays queued
    page = login()
    page.goto(f"{dashboard.url}/queues")
    row = page.locator(f'tr[data-queue="{name}"]')
    expect(row.locator(".badge")).to_have_text("active")

    row.get_by_role("button", name="Pause").click()
    expect(page.locator(".flash")).to_contain_text(f"Queue {name} paused")
    expect(row.locator(".badge")).to_have_text("paused")
    with dashboard.api() as api:
        queues = {q["name"]: q for q in api.get("/v1/queues").json()}
    assert queues[name]["paused"] is True

    row.get_by_role("button", name="Resume").click()
    expect(row.locator(".badge")).to_have_text("active")
    with dashboard.api() as api:
        queues = {q["name"]: q for q in api.get("/v1/queues").json()}
    assert queues[name]["paused"] is False


def test_a_read_key_sees_everything_and_no_action_buttons(
    login: Login, dashboard: Dashboard
) -> None:
    idle = f"web-{uuid.uuid4().hex[:6]}"
    waiting = enqueue(dashboard, "noop", queue=idle)
    cancelled = enqueue(dashboard, "noop", queue=idle)
    with dashboard.api() as api:
        assert api.post(f"/v1/jobs/{cancelled['id']}/cancel").status_code == 200

    page = login(dashboard.read_key)
    expect(page.locator(".scope")).to_have_text("read")
    expect(page.get_by_role("link", name="New job")).to_have_count(0)

    page.goto(f"{dashboard.url}/jobs/{waiting['id']}")
    expect(page.locator("#job-head .badge").first).to_have_text("queued")
    page.goto(f"{dashboard.url}/jobs/{cancelled['id']}")
    expect(page.locator("#job-head .badge").first).to_have_text("cancelled")
    assert page.locator("main form").count() == 0
    page.goto(f"{dashboard.url}/jobs?queue={idle}")
    expect(page.locator("table.jobs tbody tr")).to_have_count(2)
    assert page.locator('main input[type="checkbox"], main form[method="post"]').count() == 0
    page.goto(f"{dashboard.url}/queues")
    expect(page.locator(f'tr[data-queue="{idle}"]')).to_be_visible()
    assert page.locator("main form").count() == 0
    assert page.get_by_role("button", name=re.compile("Pause|Resume|Cancel|Retry")).count() == 0

    # With a valid CSRF token, the scope still refuses.
    token = page.locator('form[action="/logout"] input[name="csrf"]').get_attribute("value")
    assert token
    response = page.request.post(
        f"{dashboard.url}/jobs/{waiting['id']}/cancel", form={"csrf": token}
    )
    assert response.status == 403
    assert "scope" in response.text()
    response = page.request.post(f"{dashboard.url}/queues/{idle}/pause", form={"csrf": token})
    assert response.status == 403
    assert page.request.get(f"{dashboard.url}/jobs/new").status == 403
    assert job_status(dashboard, waiting["id"]) == "queued"


def test_forged_posts_without_the_csrf_token_are_refused(
    login: Login, dashboard: Dashboard
) -> None:
    idle = f"web-{uuid.uuid4().hex[:6]}"
    job = enqueue(dashboard, "noop", queue=idle)
    page = login()
    target = f"{dashboard.url}/jobs/{job['id']}/cancel"

    assert page.request.post(target, form={}).status == 403
    assert page.request.post(target, form={"csrf": "forged"}).status == 403
    assert page.request.post(f"{dashboard.url}/queues/{idle}/pause", form={}).status == 403
    bulk = page.request.post(
        f"{dashboard.url}/jobs/bulk", form={"action": "cancel", "job": str(job["id"])}
    )
    assert bulk.status == 403

    # A page on another site that submits a form to the dashboard: the session cookie
    # (SameSite=Strict) does not go along, and the token is wrong anyway.
    forged = (
        f'<form method="post" action="{target}"><input name="csrf" value="guess"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route(
        "http://forged.test/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=forged),
    )
    page.goto("http://forged.test/")
    page.wait_for_url(re.compile(re.escape(dashboard.url) + r"/login"))
    assert job_status(dashboard, job["id"]) == "queued"


def test_bad_form_input_is_shown_beside_its_field_with_the_api_message(
    login: Login, dashboard: Dashboard, sites: Sites
) -> None:
    page = login(dashboard.write_key)
    page.goto(f"{dashboard.url}/jobs/new")
    page.get_by_label("URLs", exact=True).fill(sites.fast.url("/"))
    page.get_by_label("Max pages").fill("many")
    page.get_by_role("button", name="Submit job").click()
    expect(page.locator("#max_pages-error")).to_have_text("max_pages: must be a whole number")
    expect(page.get_by_label("Max pages")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Max pages")).to_be_focused()

    page.get_by_label("Max pages").fill("10")
    page.get_by_label("Include paths").fill("/blog/*\nre:(")
    page.get_by_role("button", name="Submit job").click()
    with dashboard.api(dashboard.write_key) as api:
        refused = api.post(
            "/v1/crawl", json={"url": sites.fast.url("/"), "include_paths": ["/blog/*", "re:("]}
        )
    assert refused.status_code == 422
    expect(page.locator("#include_paths-error")).to_have_text(refused.json()["error"]["message"])
    expect(page.get_by_label("Include paths")).to_have_value("/blog/*\nre:(")
    assert page.url.endswith("/jobs/new")


def test_the_overview_updates_live(login: Login, dashboard: Dashboard) -> None:
    page = login()
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    page.evaluate("window.__sameDocument = true")
    name = f"web-{uuid.uuid4().hex[:6]}"
    enqueue(dashboard, "noop", queue=name)
    expect(page.locator("#ov-queues")).to_contain_text(name, timeout=10_000)
    failed = enqueue(dashboard, "test.fail", payload={"error": "permanent"}, max_attempts=1)
    until_sync(lambda: job_status(dashboard, failed["id"]) == "failed", timeout=20)
    expect(page.locator(f'#ov-failures a[href="/jobs/{failed["id"]}"]')).to_be_visible(
        timeout=10_000
    )
    assert page.evaluate("window.__sameDocument === true")


def test_a_revoked_key_ends_its_sessions_at_once(login: Login, dashboard: Dashboard) -> None:
    secret = dashboard.create_key(f"temp-{uuid.uuid4().hex[:6]}", keys.Scope.WRITE)
    page = login(secret)
    # The session opens the API's read endpoints too (the export links rely on it).
    assert page.request.get(f"{dashboard.url}/v1/keys/current").json()["scope"] == "write"
    cookie = next(c for c in page.context.cookies() if c["name"] == "scrapeyard_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert secret not in cookie["value"]

    # ...but never a change: a cookie alone cannot make the API act (no CSRF through it).
    refused = page.request.post(f"{dashboard.url}/v1/jobs", data={"kind": "noop"})
    assert refused.status == 401

    dashboard.revoke(secret)
    page.goto(f"{dashboard.url}/jobs")
    assert "/login?next=%2Fjobs" in page.url
    assert page.request.get(f"{dashboard.url}/v1/keys/current").status == 401


def test_every_page_at_desktop_and_phone_width(
    login: Login, dashboard: Dashboard, sites: Sites, browser: Browser
) -> None:
    with dashboard.api() as api:
        crawl = api.post("/v1/crawl", json={"url": sites.fast.url("/"), "max_pages": 12})
        assert crawl.status_code == 202, crawl.text
    crawl_id = crawl.json()["job"]["id"]
    with dashboard.api() as api:
        nightly = api.post(
            "/v1/schedules",
            json={
                "name": f"nightly-{uuid.uuid4().hex[:6]}",
                "cron": "0 6 * * *",
                "timezone": "Europe/Berlin",
                "job": {
                    "kind": "crawl",
                    "payload": {"url": sites.fast.url("/"), "max_pages": 500},
                },
            },
        )
        assert nightly.status_code == 201, nightly.text
    failed = enqueue(dashboard, "test.fail", payload={"error": "permanent"}, max_attempts=1)
    until_sync(lambda: job_status(dashboard, crawl_id) == "succeeded", timeout=30)
    until_sync(lambda: job_status(dashboard, failed["id"]) == "failed", timeout=30)
    # A webhook whose receiver answers 404 (a retry is due), and one for the schedule.
    hook = webhook_events.subscribe(
        dashboard, sites.fast.url("/hook"), ["job.failed"], job_id=failed["id"]
    )
    webhook_events.subscribe(
        dashboard, sites.fast.url("/nightly"), ["schedule.fired"], schedule_id=nightly.json()["id"]
    )
    [delivery_id] = webhook_events.emit(
        dashboard, "job.failed", failed["id"], error={"type": "ValueError", "message": "boom"}
    )
    until_sync(
        lambda: webhook_events.delivery(dashboard, delivery_id)["status"] == "retrying",
        timeout=30,
    )

    pages = {
        "overview": "/",
        "jobs": "/jobs",
        "job": f"/jobs/{crawl_id}",
        "failed-job": f"/jobs/{failed['id']}",
        "new-job": "/jobs/new",
        "queues": "/queues",
        "workers": "/workers",
        "hosts": "/hosts",
        "schedules": "/schedules",
        "schedule": f"/schedules/{nightly.json()['id']}",
        "new-schedule": "/schedules/new",
        "webhooks": "/webhooks",
        "webhook": f"/webhooks/{hook['id']}",
        "not-found": "/jobs/999999999",
        "no-page": "/no/such/page",
    }
    for width in (1280, 390):
        anonymous = browser.new_context(viewport={"width": width, "height": 900})
        login_page = anonymous.new_page()
        login_page.goto(f"{dashboard.url}/login")
        screenshot(login_page, dashboard, "login")
        anonymous.close()

        page = login(width=width)
        for name, path in pages.items():
            response = page.goto(f"{dashboard.url}{path}")
            assert response is not None
            assert response.status == (404 if name in ("not-found", "no-page") else 200), name
            expect(page.locator("main h1").first).to_be_visible()
            # Nothing may stick out sideways: wide tables scroll inside their card.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} at {width}px is {overflow}px too wide"
            screenshot(page, dashboard, name)


def test_pages_send_security_headers_and_stay_out_of_the_openapi(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        login_page = client.get("/login")
        assert login_page.status_code == 200
        csp = login_page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert login_page.headers["x-frame-options"] == "DENY"
        assert client.get("/jobs").status_code == 303
        spec = client.get("/openapi.json").json()
    assert not any(not path.startswith("/v1/") and path not in _API_ROOTS for path in spec["paths"])


_API_ROOTS = {"/healthz", "/readyz", "/metrics"}


def test_a_link_from_another_site_opens_its_page_logged_in(
    login: Login, dashboard: Dashboard
) -> None:
    page = login()
    target = f"{dashboard.url}/jobs?status=failed"
    page.route(
        "http://elsewhere.test/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=f'<a href="{target}">failed jobs</a>'
        ),
    )
    page.goto("http://elsewhere.test/")
    statuses: list[int] = []
    page.on("response", lambda response: statuses.append(response.status))
    page.get_by_role("link", name="failed jobs").click()
    page.wait_for_url(target)
    expect(page.locator("main h1")).to_have_text("Jobs")
    expect(page.locator("#f-status")).to_have_value("failed")
    assert 303 not in statuses  # never sent to the login page


def test_logging_in_moving_around_and_out_from_the_keyboard(
    browser: Browser, dashboard: Dashboard
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{dashboard.url}/workers")
        assert "/login?next=%2Fworkers" in page.url
        expect(page.get_by_label("API key")).to_be_focused()
        page.keyboard.type(dashboard.write_key)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{dashboard.url}/workers")

        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")  # the brand
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Overview")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{dashboard.url}/jobs")

        page.get_by_role("button", name="Log out").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{dashboard.url}/login")
        expect(page.locator(".flash")).to_have_text("Logged out.")
        assert not [c for c in context.cookies() if c["name"] == "scrapeyard_session"]
        page.goto(f"{dashboard.url}/jobs")
        assert "/login" in page.url
    finally:
        context.close()
