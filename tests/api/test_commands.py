"""The commands as users run them: ``keys``, ``serve`` end to end, and ``api``."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from scrapeyard.client import Client
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.support import processes
from tests.support.waiting import until


def test_keys_create_prints_only_the_key_and_list_never_shows_it(database_url: str) -> None:
    environ = processes.env(database_url)
    made = processes.run(
        ["keys", "create", "--name", "ci", "--scope", "write", "--expires", "30d"], environ
    )
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"sy_[A-Za-z0-9_-]{43}\n", made.stdout), made.stdout
    assert "shown only this once" in made.stderr
    key = made.stdout.strip()

    listed = processes.run(["keys", "list", "--json"], environ)
    assert key not in listed.stdout + listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["name"], entry["scope"], entry["state"]) == ("ci", "write", "active")
    assert entry["prefix"] == key[:11] and entry["expires_at"] is not None
    table = processes.run(["keys", "list"], {**environ, "COLUMNS": "200"})
    assert key[:11] in table.stdout and key not in table.stdout

    revoked = processes.run(["keys", "revoke", "ci"], environ)
    assert revoked.returncode == 0 and "revoked key 1" in revoked.stdout
    [entry] = json.loads(processes.run(["keys", "list", "--json"], environ).stdout)
    assert entry["state"] == "revoked"


def test_keys_refuse_bad_input_with_the_field(database_url: str) -> None:
    environ = processes.env(database_url)
    bad_scope = processes.run(["keys", "create", "--name", "x", "--scope", "root"], environ)
    assert bad_scope.returncode == 2 and "scope" in bad_scope.stderr
    assert bad_scope.stdout == ""
    bad_expiry = processes.run(
        ["keys", "create", "--name", "x", "--scope", "read", "--expires", "soon"], environ
    )
    assert bad_expiry.returncode == 2 and "expires" in bad_expiry.stderr
    missing = processes.run(["keys", "revoke", "nobody"], environ)
    assert missing.returncode == 2 and "nobody" in missing.stderr


async def _banner(command: processes.Command) -> tuple[str, str] | None:
    url = re.search(r"scrapeyard API on (http://127\.0\.0\.1:\d+)", command.output)
    key = re.search(r"admin key: (sy_\S+)", command.output)
    if command.process.poll() is not None:
        raise AssertionError(f"serve exited early:\n{command.output}")
    return (url.group(1), key.group(1)) if url and key else None


async def _status(client: Client, job_id: int, wanted: str) -> dict[str, Any] | None:
    job = await client.get_job(job_id)
    return job if job["status"] == wanted else None


async def test_serve_runs_the_api_and_workers_end_to_end(
    database_url: str, store: JobStore, tmp_path: Path
) -> None:
    command = processes.Command(
        ["serve", "--port", "0", "--processes", "1", "--concurrency", "4"],
        processes.env(database_url),
        tmp_path / "serve.log",
    )
    try:
        url, key = await until(lambda: _banner(command), timeout=60)
        async with Client(url, key, poll_interval=0.05) as client:
            # A job, followed live to the end.
            # Longer than the stream's poll interval, so the running state is seen.
            job = await client.enqueue("noop", {"sleep": 1.5})
            events = [event async for event in client.events(job["id"])]
            statuses = [event.json()["status"] for event in events if event.event == "job"]
            assert "running" in statuses and events[-1].event == "end"
            assert events[-1].json()["status"] == "succeeded"
            history = [event.json()["type"] for event in events if event.event == "history"]
            assert history == ["enqueued", "started", "succeeded"]

            # Pages of jobs, newest first.
            ids = [job["id"]] + [(await client.enqueue("noop"))["id"] for _ in range(4)]
            pages = []
            cursor = None
            while True:
                page = await client.list_jobs(limit=2, cursor=cursor)
                pages.append([found["id"] for found in page["jobs"]])
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert [i for page in pages for i in page] == sorted(ids, reverse=True)
            assert len(pages) == 3

            # Cancel a running job.
            running = await client.enqueue("test.cancellable")
            await until(lambda: _status(client, running["id"], "running"), timeout=30)
            assert (await client.cancel(running["id"]))["cancel_requested"] is True
            assert (await client.wait(running["id"], timeout=30))["status"] == "cancelled"

            # Retry a failed job: it runs again.
            failing = await client.enqueue("test.fail", {"how": "permanent"})
            assert (await client.wait(failing["id"], timeout=30))["status"] == "failed"
            assert (await client.retry(failing["id"]))["status"] == "queued"
            again = await until(lambda: _status(client, failing["id"], "failed"), timeout=30)
            assert [e["type"] for e in again["events"]].count("started") == 2

            # Pause: nothing is claimed from the queue until it is resumed.
            assert (await client.pause("default"))["paused"] is True
            held = await client.enqueue("noop")
            assert await store.claim("probe", ["default"]) == []
            assert (await client.resume("default"))["paused"] is False
            assert (await client.wait(held["id"], timeout=30))["status"] == "succeeded"

            # The worker process is visible, alive and heartbeating.
            [worker] = await client.workers()
            assert worker["state"] == "running" and not worker["stale"]
            assert worker["supervisor"].startswith("supervisor-")

        # Metrics from loopback need no key and agree with the store.
        async with httpx.AsyncClient(base_url=url) as http:
            text = (await http.get("/metrics")).text
        depth = {
            (s.labels["queue"], s.labels["status"]): s.value
            for family in text_string_to_metric_families(text)
            if family.name == "scrapeyard_queue_jobs"
            for s in family.samples
        }
        counts = (await store.counts())["default"]
        assert depth[("default", "succeeded")] == counts["succeeded"] == 6
        assert depth[("default", "failed")] == 1 and depth[("default", "cancelled")] == 1
    finally:
        command.signal(signal.SIGTERM)
        code = command.wait(timeout=60)
    assert code == 0, command.output
    assert "all worker processes stopped" in command.output
    assert "Traceback" not in command.output
    assert (await store.status_counts())["running"] == 0


async def test_api_serves_without_workers_and_stops_on_ctrl_c(
    database_url: str, store: JobStore, tmp_path: Path
) -> None:
    environ = processes.env(database_url)
    key = processes.run(["keys", "create", "--name", "ops", "--scope", "read"], environ)
    command = processes.Command(["api", "--port", "0"], environ, tmp_path / "api.log")

    async def address() -> str | None:
        if command.process.poll() is not None:
            raise AssertionError(command.output)
        found = re.search(r"scrapeyard API on (http://127\.0\.0\.1:\d+)", command.output)
        return found.group(1) if found else None

    try:
        url = await until(address, timeout=60)
        assert "admin key" not in command.output, "a key existed: none is created"
        job = await store.enqueue(JobSpec("noop"))
        async with Client(url, key.stdout.strip()) as client:
            assert (await client.get_job(job.id))["status"] == "queued"
            assert await client.workers() == []
    finally:
        command.signal(signal.SIGINT)
        code = command.wait(timeout=60)
    assert code == 0, command.output


def test_listening_beyond_loopback_needs_an_existing_key(database_url: str) -> None:
    refused = processes.run(
        ["api", "--host", "0.0.0.0", "--port", "0"], processes.env(database_url)
    )
    assert refused.returncode == 2
    assert "no API key exists yet" in refused.stderr
    assert "keys create" in refused.stderr
