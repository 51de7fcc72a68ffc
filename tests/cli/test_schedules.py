"""``scrapeyard schedules``: add (crawl flags included), list, show, pause, resume, remove;
and a worker firing what was added."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.support import processes
from tests.support.waiting import until


def _ok(args: list[str], environ: dict[str, str]) -> str:
    done = processes.run(args, environ)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_life_of_a_schedule_from_the_command_line(database_url: str) -> None:
    environ = processes.env(database_url)
    noop_id = _ok(["schedules", "add", "--every", "10s", "noop", "--name", "tick"], environ)
    crawl_id = _ok(
        ["schedules", "add", "--cron", "0 6 * * *", "--tz", "Europe/Berlin", "crawl",
         "https://example.com/", "--max-pages", "500", "--include", "/shop/*", "--rps", "2",
         "--queue", "nightly", "--render", "auto", "--wait-for", "#app"],
        environ,
    )  # fmt: skip
    listed = {s["name"]: s for s in json.loads(_ok(["schedules", "list", "--json"], environ))}
    assert set(listed) == {"tick", "crawl https://example.com/ 0 6 * * *"}
    tick = listed["tick"]
    assert (str(tick["id"]), tick["interval"], tick["job"]["kind"]) == (noop_id.strip(), 10, "noop")
    crawl = json.loads(_ok(["schedules", "show", crawl_id.strip(), "--json"], environ))
    assert crawl["job"] == {
        "kind": "crawl",
        "payload": {
            "url": "https://example.com/",
            "max_pages": 500,
            "include_paths": ["/shop/*"],
            "rate_limit": {"requests_per_second": 2.0},
            "render": "auto",
            "wait_for": {"selector": "#app"},
        },
        "queue": "nightly",
        "priority": None,
        "max_attempts": None,
    }
    assert (crawl["cron"], crawl["timezone"], len(crawl["next_fire_times"])) == (
        "0 6 * * *",
        "Europe/Berlin",
        5,
    )
    assert crawl["last_runs"] == []

    shown = _ok(["schedules", "show", "tick"], environ)
    assert "every 10s" in shown and "noop" in shown

    _ok(["schedules", "pause", "tick"], environ)
    assert json.loads(_ok(["schedules", "show", "tick", "--json"], environ))["paused"] is True
    _ok(["schedules", "resume", "tick"], environ)
    assert json.loads(_ok(["schedules", "show", "tick", "--json"], environ))["paused"] is False
    _ok(["schedules", "remove", "tick"], environ)
    names = [s["name"] for s in json.loads(_ok(["schedules", "list", "--json"], environ))]
    assert names == ["crawl https://example.com/ 0 6 * * *"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_bad_schedules_are_refused_with_the_reason(database_url: str) -> None:
    environ = processes.env(database_url)
    cases = [
        (["--every", "1m", "--cron", "* * * * *", "noop"], "cron"),
        (["noop"], "either --cron"),
        (["--every", "soon", "noop"], "not an interval"),
        (["--cron", "0 6 * *", "noop"], "4 fields"),
        (["--cron", "0 6 * * *", "--tz", "Nowhere/Land", "noop"], "time zone"),
        (["--every", "1m", "crawl", "https://e.com/", "--max-pagez", "3"], "--max-pagez"),
        (["--every", "1m", "crawl", "https://e.com/", "--output", "x.csv"], "--output"),
        (["--every", "1m", "crawl", "ftp://e.com/"], "http"),
        (["--every", "1m", "crawl"], "start URL"),
        (["--every", "1m", "noop", "stray"], "--payload"),
        (["--every", "1m", "noop", "--payload", "[1]"], "JSON object"),
        (["--every", "1m", "nosuch.kind"], "nosuch.kind"),
        (["--every", "1m", "--missed", "never", "noop"], "missed"),
    ]
    for args, words in cases:
        done = processes.run(["schedules", "add", *args], environ)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr, (args, done.stderr)
    assert json.loads(_ok(["schedules", "list", "--json"], environ)) == []
    done = processes.run(["schedules", "show", "nope"], environ)
    assert done.returncode == 1 and "not found" in done.stderr


async def test_a_running_worker_fires_the_schedule(database_url: str, tmp_path: Path) -> None:
    environ = processes.env(database_url)
    log = tmp_path / "executions.log"
    payload = json.dumps({"log": str(log)})
    _ok(["schedules", "add", "--every", "1s", "test.record", "--payload", payload], environ)
    worker = processes.Command(
        ["worker", "--processes", "1", "--concurrency", "2"], environ, tmp_path / "worker.log"
    )
    try:

        async def executions() -> int | None:
            assert worker.process.poll() is None, worker.output
            count = len(log.read_text().splitlines()) if log.exists() else 0
            return count if count >= 3 else None

        await until(executions, timeout=60)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output
    shown = json.loads(_ok(["schedules", "show", "test.record every 1s", "--json"], environ))
    runs = shown["last_runs"]
    assert len(runs) >= 3
    enqueued = [run for run in runs if run["outcome"] == "enqueued"]
    assert len({run["job_id"] for run in enqueued}) == len(enqueued), "one job per fire time"
    assert len({run["fire_at"] for run in runs}) == len(runs)
