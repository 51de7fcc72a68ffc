"""A PostgreSQL restart under running workers: they carry on and lose nothing."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from scrapeyard import connect
from scrapeyard.queue import database, migrate
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from tests.support import kinds, processes
from tests.support.waiting import until

PGCLUSTER = processes.ROOT / "scripts" / "pgcluster.py"


@pytest.fixture
def own_postgres(postgres_server: str) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of this test's own, so restarting it disturbs nobody else."""
    # Not under pytest's tmp_path: the server runs as the postgres user, which cannot
    # enter root's private pytest directories.
    directory = Path(tempfile.mkdtemp(prefix="scrapeyard-own-pg-"))
    url = subprocess.run(
        [sys.executable, str(PGCLUSTER), "start", str(directory)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        yield url, directory
    finally:
        subprocess.run([sys.executable, str(PGCLUSTER), "stop", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


async def _succeeded(store: JobStore, at_least: int) -> int | None:
    try:
        done = (await store.status_counts())["succeeded"]
    except Exception:  # the server is restarting under us, too
        return None
    return done if done >= at_least else None


async def test_postgres_restart_under_running_workers(
    own_postgres: tuple[str, Path], tmp_path: Path
) -> None:
    url, directory = own_postgres
    db = database.open_database(url)
    await migrate.upgrade(db)
    async with db.write() as conn:
        await conn.run_sync(kinds.metadata.create_all)
    await db.dispose()

    total = 150
    log = tmp_path / "executions.log"
    async with connect.open_store(database_url=url) as store:
        await store.enqueue_many(
            [
                JobSpec("test.record", {"log": str(log), "sleep": 0.05, "results": True})
                for _ in range(total)
            ]
        )
        worker = processes.Command(
            ["worker", "--processes", "2", "--concurrency", "2"],
            processes.env(url),
            tmp_path / "worker.log",
        )
        try:
            await until(lambda: _succeeded(store, 20), timeout=60)
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, str(PGCLUSTER), "restart", str(directory)],
                check=True,
            )
            await until(lambda: _succeeded(store, total), timeout=120)
        finally:
            worker.signal(signal.SIGTERM)
            code = worker.wait(timeout=60)
        assert code == 0, worker.output
        counts = await store.status_counts()
        async with store.db.read() as conn:
            results = await conn.scalar(sa.select(sa.func.count()).select_from(kinds.results))
    assert counts["succeeded"] == total and counts["running"] == 0
    assert results == total
    assert "database" in worker.output.lower(), worker.output  # the blip was logged
