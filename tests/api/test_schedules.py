"""``/v1/schedules``: create, list, read (next fire times, last runs), change, delete."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from scrapeyard.queue.schedules import ScheduleStore
from scrapeyard.queue.store import JobStore

HOURLY_CRAWL = {
    "name": "hourly-crawl",
    "cron": "0 * * * *",
    "timezone": "Europe/Berlin",
    "job": {"kind": "crawl", "payload": {"url": "https://example.com/", "max_pages": 50}},
}


def _fields(response: httpx.Response) -> list[str]:
    return [f["field"] for f in response.json()["error"]["details"]["fields"]]


async def test_a_cron_schedule_shows_its_next_five_fire_times(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/schedules", json=HOURLY_CRAWL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/schedules/{body['id']}"
    assert (body["cron"], body["timezone"], body["interval"]) == (
        "0 * * * *",
        "Europe/Berlin",
        None,
    )
    assert body["description"] == "0 * * * * (Europe/Berlin)"
    assert (body["missed"], body["overlap"], body["paused"]) == ("skip", "skip", False)
    times = [datetime.fromisoformat(t) for t in body["next_fire_times"]]
    assert len(times) == 5
    assert all(t.minute == 0 and t.second == 0 for t in times)
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [timedelta(hours=1)] * 4
    assert body["job"]["payload"] == {"url": "https://example.com/", "max_pages": 50}

    listed = (await api.get("/v1/schedules")).json()
    assert [s["name"] for s in listed] == ["hourly-crawl"]


async def test_an_interval_schedule_reads_human_spellings(api: httpx.AsyncClient) -> None:
    body = {"name": "ticker", "every": "1h30m", "job": {"kind": "noop"}, "missed": "run_once"}
    created = (await api.post("/v1/schedules", json=body)).json()
    assert (created["interval"], created["description"]) == (5400.0, "every 1h30m")
    assert created["missed"] == "run_once"
    seconds = {**body, "name": "seconds", "every": 45}
    assert (await api.post("/v1/schedules", json=seconds)).json()["interval"] == 45.0


async def test_fired_schedules_show_their_last_runs(
    api: httpx.AsyncClient, store: JobStore
) -> None:
    created = (
        await api.post("/v1/schedules", json={"name": "t", "every": 60, "job": {"kind": "noop"}})
    ).json()
    fire_at = datetime.fromisoformat(created["next_fire_at"])
    [fired] = await ScheduleStore(store).fire_due(now=fire_at)

    detail = (await api.get(f"/v1/schedules/{created['id']}")).json()
    assert detail["last_job_id"] == fired.job_id
    assert detail["last_runs"] == [
        {
            "fire_at": fire_at.isoformat().replace("+00:00", "Z")
            if detail["last_runs"][0]["fire_at"].endswith("Z")
            else fire_at.isoformat(),
            "outcome": "enqueued",
            "job_id": fired.job_id,
            "job_status": "queued",
            "error": None,
        }
    ]
    job = (await api.get(f"/v1/jobs/{fired.job_id}")).json()
    assert job["kind"] == "noop"


async def test_patch_pauses_resumes_and_changes_the_timing(api: httpx.AsyncClient) -> None:
    created = (await api.post("/v1/schedules", json=HOURLY_CRAWL)).json()
    url = f"/v1/schedules/{created['id']}"

    paused = (await api.patch(url, json={"paused": True})).json()
    assert paused["paused"] is True and paused["next_fire_times"] == []
    resumed = (await api.patch(url, json={"paused": False})).json()
    assert resumed["paused"] is False and len(resumed["next_fire_times"]) == 5

    changed = await api.patch(url, json={"every": "10m", "overlap": "allow", "name": "fast"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["interval"], body["cron"], body["overlap"]) == (
        "fast",
        600.0,
        None,
        "allow",
    )
    assert body["job"]["kind"] == "crawl", "fields left out stay as they are"

    zoned = (await api.patch(url, json={"cron": "30 6 * * 1", "timezone": "Asia/Tokyo"})).json()
    assert (zoned["cron"], zoned["timezone"], zoned["interval"]) == (
        "30 6 * * 1",
        "Asia/Tokyo",
        None,
    )
    first = datetime.fromisoformat(zoned["next_fire_times"][0])
    assert (first.weekday(), first.hour, first.minute) == (6, 21, 30)  # Mon 06:30 JST, in UTC


async def test_delete_removes_the_schedule(api: httpx.AsyncClient) -> None:
    created = (await api.post("/v1/schedules", json=HOURLY_CRAWL)).json()
    url = f"/v1/schedules/{created['id']}"
    assert (await api.delete(url)).status_code == 204
    missing = await api.get(url)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "schedule_not_found"
    assert (await api.delete(url)).status_code == 404


async def test_bad_schedules_name_the_field(api: httpx.AsyncClient) -> None:
    def body(**changes: object) -> dict[str, object]:
        return {**HOURLY_CRAWL, **changes}

    cases = [
        (body(cron="61 * * * *"), "cron"),
        (body(cron=None), "cron"),
        (body(every="15m"), "every"),
        (body(cron=None, every="soon"), "every"),
        (body(cron=None, every=0.2), "every"),
        (body(timezone="Mars/Olympus"), "timezone"),
        (body(job={"kind": "no.such.kind"}), "job.kind"),
        (body(job={"kind": "crawl", "payload": {"url": "ftp://x"}}), "job.payload.urls[0]"),
        (body(missed="sometimes"), "missed"),
        (body(name=""), "name"),
    ]
    for request, field in cases:
        response = await api.post("/v1/schedules", json=request)
        assert response.status_code == 422, (request, response.text)
        assert field in _fields(response), (request, response.text)
    assert (await api.get("/v1/schedules")).json() == [], "nothing half-created"


async def test_a_taken_name_is_a_conflict(api: httpx.AsyncClient) -> None:
    assert (await api.post("/v1/schedules", json=HOURLY_CRAWL)).status_code == 201
    again = await api.post("/v1/schedules", json=HOURLY_CRAWL)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "schedule_conflict"
    assert "hourly-crawl" in again.json()["error"]["message"]


async def test_reading_needs_a_key_and_changing_needs_write(
    api_url: str, key_store: object
) -> None:
    from scrapeyard.queue import keys

    assert isinstance(key_store, keys.KeyStore)
    reader = (await key_store.create("reader", keys.Scope.READ)).secret
    async with httpx.AsyncClient(base_url=api_url) as client:
        assert (await client.get("/v1/schedules")).status_code == 401
        headers = {"Authorization": f"Bearer {reader}"}
        assert (await client.get("/v1/schedules", headers=headers)).status_code == 200
        refused = await client.post("/v1/schedules", json=HOURLY_CRAWL, headers=headers)
        assert refused.status_code == 403
