"""``scrapeyard worker`` as users run it: real processes, real signals, real databases."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import re
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from scrapeyard import config, connect
from scrapeyard.queue.jobs import EventType, JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.workers import WorkerRegistry, WorkerState
from tests.support import kinds, processes
from tests.support.waiting import until


@pytest.fixture
async def store_with_results(settings: config.Settings) -> AsyncIterator[JobStore]:
    """A store whose database also has the test_results table."""
    async with connect.open_store(settings) as store:
        async with store.db.write() as conn:
            await conn.run_sync(kinds.metadata.create_all)
        yield store


async def _count_results(store: JobStore) -> int:
    async with store.db.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(kinds.results)) or 0)


async def _all_finished(store: JobStore, total: int) -> dict[str, int] | None:
    counts = await store.status_counts()
    finished = counts["succeeded"] + counts["failed"] + counts["cancelled"]
    return counts if finished >= total else None


async def _live_workers(
    store: JobStore, at_least: int, without: int | None = None
) -> list[int] | None:
    rows = await WorkerRegistry(store.db).list(stale_after=1.5)
    pids = [w.pid for w in rows if w.state is WorkerState.RUNNING and not w.stale]
    if without in pids:
        return None
    return pids if len(pids) >= at_least else None


async def _running_jobs(store: JobStore, at_least: int) -> int | None:
    running = (await store.status_counts())["running"]
    return running if running >= at_least else None


def _executions(log: Path) -> collections.Counter[int]:
    return collections.Counter(int(line.split()[0]) for line in log.read_text().splitlines())


async def test_kill_9_of_a_worker_process_loses_no_job(
    store_with_results: JobStore, database_url: str, tmp_path: Path
) -> None:
    store = store_with_results
    log = tmp_path / "executions.log"
    total = 40
    ids = await store.enqueue_many(
        [
            JobSpec("test.record", {"log": str(log), "sleep": 0.3, "results": True})
            for _ in range(total)
        ]
    )
    worker = processes.Command(
        ["worker", "--processes", "2", "--concurrency", "4"],
        processes.env(database_url),
        tmp_path / "worker.log",
    )
    try:
        pids = await until(lambda: _live_workers(store, 2), timeout=30)
        await until(lambda: _running_jobs(store, 2), timeout=30)
        victim = pids[0]
        os.kill(victim, signal.SIGKILL)

        counts = await until(lambda: _all_finished(store, total), timeout=90)
        assert counts["succeeded"] == total
        # The supervisor replaced the killed process.
        await until(lambda: _live_workers(store, 2, without=victim), timeout=30)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output
    assert await _count_results(store) == total, "a result was lost or committed twice"
    runs = _executions(log)
    assert set(runs) == set(ids)
    assert "died (signal SIGKILL)" in worker.output
    assert (await store.status_counts())["running"] == 0


async def test_sigterm_lets_short_jobs_finish_and_hands_long_ones_back(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "executions.log"
    short = await store.enqueue_many(
        [JobSpec("test.record", {"log": str(log), "sleep": 0.5}) for _ in range(3)]
    )
    long = await store.enqueue_many(
        [JobSpec("test.record", {"log": str(log), "sleep": 30}) for _ in range(2)]
    )
    environ = processes.env(database_url, SCRAPEYARD_WORKER__SHUTDOWN_GRACE="2")
    worker = processes.Command(
        ["worker", "--processes", "1", "--concurrency", "10"], environ, tmp_path / "w1.log"
    )
    try:
        await until(lambda: _running_jobs(store, 5), timeout=30)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output

    jobs = await store.get_many(short + long)
    assert {jobs[i].status for i in short} == {JobStatus.SUCCEEDED}
    assert {jobs[i].status for i in long} == {JobStatus.QUEUED}
    assert all(jobs[i].attempts == 0 for i in long)
    for job_id in long:
        assert (await store.events(job_id))[-1].type is EventType.RELEASED
    assert (await store.status_counts())["running"] == 0

    # The next worker finishes the long ones (quickly this time).
    async with store.db.write() as conn:
        await conn.execute(
            sa.update(jobs_table)
            .where(jobs_table.c.id.in_(long))
            .values(payload={"log": str(log), "sleep": 0.1})
        )
    again = processes.run(["worker", "--processes", "1", "--burst"], environ)
    assert again.returncode == 0, again.stderr
    finished = await store.get_many(long)
    assert {job.status for job in finished.values()} == {JobStatus.SUCCEEDED}
    assert all(job.attempts == 1 for job in finished.values())


async def test_a_second_signal_skips_the_grace_period(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    job = await store.enqueue(JobSpec("test.stubborn"))
    environ = processes.env(database_url, SCRAPEYARD_WORKER__SHUTDOWN_GRACE="600")
    worker = processes.Command(["worker", "--processes", "1"], environ, tmp_path / "w.log")
    try:
        await until(lambda: _running_jobs(store, 1), timeout=30)
        worker.signal(signal.SIGTERM)
        await until(lambda: _draining(store), timeout=10)
        worker.signal(signal.SIGINT)
        assert worker.wait(timeout=30) == 0, worker.output
    finally:
        worker.kill()
    back = await store.get(job.id)
    assert back.status is JobStatus.QUEUED and back.attempts == 0


async def _draining(store: JobStore) -> bool:
    return any(w.state is WorkerState.DRAINING for w in await WorkerRegistry(store.db).list())


async def test_a_process_over_its_memory_limit_is_recycled(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "executions.log"
    hog = await store.enqueue(JobSpec("test.allocate", {"log": str(log), "mb": 300}))
    environ = processes.env(database_url, SCRAPEYARD_WORKER__MEMORY_LIMIT_MB="250")
    worker = processes.Command(["worker", "--processes", "1"], environ, tmp_path / "w.log")
    try:
        await until(lambda: _status_is(store, hog.id, JobStatus.SUCCEEDED), timeout=30)
        rows = await until(lambda: _workers_seen(store, 2), timeout=30)
        follow = await store.enqueue(JobSpec("test.record", {"log": str(log)}))
        await until(lambda: _status_is(store, follow.id, JobStatus.SUCCEEDED), timeout=30)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output
    first = min(rows, key=lambda w: w.started_at)
    assert first.state is WorkerState.STOPPED
    assert "over the limit" in worker.output
    assert "recycled (memory limit)" in worker.output
    pids = {int(line.split()[2]) for line in log.read_text().splitlines()}
    assert len(pids) == 2, "the follow-up job ran in the fresh process"


async def _status_is(store: JobStore, job_id: int, status: JobStatus) -> bool:
    return (await store.get(job_id)).status is status


async def _workers_seen(store: JobStore, count: int) -> list[object] | None:
    rows = await WorkerRegistry(store.db).list()
    return rows if len(rows) >= count else None  # type: ignore[return-value]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_crash_looping_process_backs_off(database_url: str, tmp_path: Path) -> None:
    environ = processes.env(database_url, SCRAPEYARD_IMPORTS="tests.support.no_such_module")
    worker = processes.Command(["worker", "--processes", "1"], environ, tmp_path / "w.log")
    try:
        await until(lambda: _restarts(worker, 3), timeout=60)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    delays = [float(d) for d in re.findall(r"restarting in ([\d.]+)s", worker.output)]
    assert delays[:3] == [0.5, 1.0, 2.0]
    assert "cannot import 'tests.support.no_such_module'" in worker.output


async def _restarts(worker: processes.Command, count: int) -> bool:
    return worker.output.count("restarting in") >= count


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_health_endpoints(store: JobStore, database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    worker = processes.Command(
        ["worker", "--processes", "2", "--health-port", str(port)],
        processes.env(database_url),
        tmp_path / "w.log",
    )
    try:
        health = await until(lambda: _answered(f"http://127.0.0.1:{port}/healthz"), timeout=30)
        assert health == (200, {"status": "ok"})
        ready = await until(lambda: _ready(port), timeout=30)
        assert ready == {"status": "ready"}
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output


async def _ready(port: int) -> dict[str, object] | None:
    status, body = await _get(f"http://127.0.0.1:{port}/readyz")
    return body if status == 200 else None


async def _answered(url: str) -> tuple[int, dict[str, object]] | None:
    status, body = await _get(url)
    return (status, body) if status else None


async def _get(url: str) -> tuple[int, dict[str, object]]:
    def fetch() -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, {}

    return await asyncio.to_thread(fetch)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_workers_command_lists_workers_and_marks_stale_ones(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    registry = WorkerRegistry(store.db)
    await registry.register(
        "ghost:1:abc",
        supervisor=None,
        host="ghost",
        pid=1,
        queues=["default"],
        concurrency=1,
        version="0",
    )
    worker = processes.Command(
        ["worker", "--processes", "1"], processes.env(database_url), tmp_path / "w.log"
    )
    try:
        await until(lambda: _live_workers(store, 1), timeout=30)
        await asyncio.sleep(0)  # the ghost's heartbeat is now older than 3 x 0.5 s
        listing = await until(lambda: _listing_with_stale_ghost(database_url), timeout=15)
    finally:
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, worker.output
    by_host = {row["host"]: row for row in listing}
    assert by_host["ghost"]["stale"] is True
    live = [row for row in listing if row["host"] != "ghost"]
    assert live and live[0]["stale"] is False and live[0]["state"] == "running"
    assert live[0]["rss_bytes"] > 0


async def _listing_with_stale_ghost(database_url: str) -> list[dict[str, object]] | None:
    result = await asyncio.to_thread(
        processes.run, ["workers", "--json"], processes.env(database_url)
    )
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    ghost = [row for row in rows if row["host"] == "ghost"]
    return rows if ghost and ghost[0]["stale"] else None


async def test_json_logs_carry_context_and_never_the_password(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    job = await store.enqueue(JobSpec("test.fail", max_attempts=1))
    url = database_url
    if url.startswith("postgresql://postgres@"):
        url = url.replace("postgresql://postgres@", "postgresql://postgres:hunter2-secret@")
    result = processes.run(
        ["--log-format", "json", "worker", "--processes", "1", "--burst"],
        processes.env(url, SCRAPEYARD_LOG_LEVEL="debug"),
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("job_id") == job.id and line["level"] == "error"]
    assert failed, result.stderr
    assert failed[0]["kind"] == "test.fail" and failed[0]["worker_id"]
    assert "hunter2-secret" not in result.stderr
