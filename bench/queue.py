"""Queue benchmark: enqueue, claim-and-complete, drain and latency, on each backend.

    python -m bench.queue [--backends sqlite,postgresql] [--jobs 20000] [--samples 200]

PostgreSQL runs on a throwaway cluster with durable settings (fsync on), started with
scripts/pgcluster.py, unless --postgres-url names a server. Figures:

- enqueue one-by-one and bulk (jobs/s)
- claim-and-complete loop in 2 processes, straight on the store API (jobs/s)
- idle enqueue-to-claim latency, p50 and p99 (ms), claimer in another process
- drain of the same number of noop jobs by ``scrapeyard worker --processes 2 --burst``
  (jobs/s from the first start to the last finish, and wall time with start-up)
- idle enqueue-to-start latency with a running ``scrapeyard worker``, and its RSS at rest
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from scrapeyard import connect
from scrapeyard.queue import database, migrate
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.tables import workers as workers_table

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "bench"
SPAWN = multiprocessing.get_context("spawn")


# -- databases -------------------------------------------------------------------------


@contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="scrapeyard-bench-pg-") as tmp:
        started = subprocess.run(
            [sys.executable, str(ROOT / "scripts/pgcluster.py"), "start", tmp, "--durable"],
            check=True,
            capture_output=True,
            text=True,
        )
        try:
            yield started.stdout.strip()
        finally:
            subprocess.run(
                [sys.executable, str(ROOT / "scripts/pgcluster.py"), "stop", tmp], check=False
            )


def fresh_database(backend: str, server: str | None, workdir: Path) -> str:
    """An empty, migrated database of ``backend``; its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
    else:
        assert server is not None
        name = f"bench_{uuid.uuid4().hex[:8]}"

        async def create() -> None:
            dsn = make_url(server).set(drivername="postgresql")
            conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.close()

        asyncio.run(create())
        url = str(make_url(server).set(database=name))

    async def upgrade() -> None:
        db = database.open_database(url)
        await migrate.upgrade(db)
        await db.dispose()

    asyncio.run(upgrade())
    return url


# -- measurements ----------------------------------------------------------------------


async def enqueue_one_by_one(url: str, count: int) -> float:
    async with connect.open_store(database_url=url) as store:
        started = time.perf_counter()
        for n in range(count):
            await store.enqueue(JobSpec("noop", {"n": n}, queue=QUEUE))
        elapsed = time.perf_counter() - started
        await clear(store.db)
    return count / elapsed


async def enqueue_bulk(url: str, count: int, chunk: int = 5000) -> float:
    async with connect.open_store(database_url=url) as store:
        specs = [JobSpec("noop", {"n": n}, queue=QUEUE) for n in range(count)]
        started = time.perf_counter()
        for start in range(0, count, chunk):
            await store.enqueue_many(specs[start : start + chunk])
        return count / (time.perf_counter() - started)


async def clear(db: database.Database) -> None:
    async with db.write() as conn:
        await conn.execute(sa.delete(jobs_table))


def claimer(url: str, batch: int, go: float) -> None:
    asyncio.run(_claimer(url, batch, go))


async def _claimer(url: str, batch: int, go: float) -> None:
    async with connect.open_store(database_url=url, pool_size=2) as store:
        await asyncio.sleep(max(go - time.time(), 0))
        worker = f"bench-{os.getpid()}"
        while True:
            claimed = await store.claim(worker, [QUEUE], batch)
            if not claimed:
                return
            await store.complete_many([(job, job.payload) for job in claimed])


async def finish_span(db: database.Database) -> tuple[int, float]:
    """Jobs succeeded, and seconds from the first start to the last finish."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.min(jobs_table.c.started_at),
                    sa.func.max(jobs_table.c.finished_at),
                ).where(jobs_table.c.status == "succeeded")
            )
        ).one()
    count, first, last = row
    return count, (last - first).total_seconds() if count else 0.0


def claim_and_complete(url: str, count: int, processes: int = 2, batch: int = 100) -> float:
    go = time.time() + 2.0  # every process connected before the clock starts
    procs = [SPAWN.Process(target=claimer, args=(url, batch, go)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    elapsed = time.time() - go

    async def check() -> int:
        db = database.open_database(url)
        done, _ = await finish_span(db)
        await clear(db)
        await db.dispose()
        return done

    done = asyncio.run(check())
    assert done == count, f"{done} of {count} jobs completed"
    return count / elapsed


def latency_claimer(url: str, samples: int, pipe: multiprocessing.connection.Connection) -> None:
    asyncio.run(_latency_claimer(url, samples, pipe))


async def _latency_claimer(
    url: str, samples: int, pipe: multiprocessing.connection.Connection
) -> None:
    from scrapeyard.queue import wakeup

    async with connect.open_store(database_url=url, pool_size=2) as store:
        listener = None
        if not store.db.is_sqlite:
            listener = wakeup.PostgresListener(store.db.engine, store.wakeup)
            listener.start()
            await listener.connected.wait()
        pipe.send("ready")
        delays = []
        while len(delays) < samples:
            claimed = await store.claim("latency", [QUEUE], 1)
            if not claimed:
                await store.wakeup.wait([QUEUE], 0.05 if store.db.is_sqlite else 1.0)
                continue
            delays.append(time.time() - claimed[0].payload["sent"])
            await store.complete(claimed[0])
        if listener is not None:
            await listener.stop()
        pipe.send(delays)


def enqueue_to_claim_latency(url: str, samples: int) -> tuple[float, float]:
    parent, child = SPAWN.Pipe()
    proc = SPAWN.Process(target=latency_claimer, args=(url, samples, child))
    proc.start()
    assert parent.recv() == "ready"

    async def produce() -> None:
        async with connect.open_store(database_url=url, pool_size=1) as store:
            for _ in range(samples):
                await asyncio.sleep(0.02)  # the claimer is idle again before each job
                await store.enqueue(JobSpec("noop", {"sent": time.time()}, queue=QUEUE))

    asyncio.run(produce())
    delays = parent.recv()
    proc.join()

    async def cleanup() -> None:
        db = database.open_database(url)
        await clear(db)
        await db.dispose()

    asyncio.run(cleanup())
    return percentile(delays, 50) * 1000, percentile(delays, 99) * 1000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(int(round(pct / 100 * (len(ordered) - 1))), len(ordered) - 1)
    return ordered[index]


def worker_env(url: str) -> dict[str, str]:
    return {**os.environ, "SCRAPEYARD_DATABASE_URL": url, "SCRAPEYARD_LOG_LEVEL": "warning"}


def drain(url: str, count: int, concurrency: int) -> tuple[float, float]:
    """(jobs/s from first start to last finish, wall seconds including start-up)."""
    asyncio.run(enqueue_bulk(url, count))
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapeyard",
            "worker",
            "--processes",
            "2",
            "--concurrency",
            str(concurrency),
            "--queues",
            QUEUE,
            "--burst",
        ],
        env=worker_env(url),
        check=True,
    )
    wall = time.perf_counter() - started

    async def span() -> tuple[int, float]:
        db = database.open_database(url)
        result = await finish_span(db)
        await clear(db)
        await db.dispose()
        return result

    done, seconds = asyncio.run(span())
    assert done == count, f"{done} of {count} jobs succeeded"
    return count / seconds, wall


def enqueue_to_start_latency(url: str, samples: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, worker RSS MB at rest) with one running worker process."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "scrapeyard", "worker", "--processes", "1", "--queues", QUEUE],
        env=worker_env(url),
    )

    async def measure() -> tuple[list[float], float]:
        async with connect.open_store(database_url=url, pool_size=1) as store:
            await wait_for_worker(store.db)
            await asyncio.sleep(1.0)
            delays: list[float] = []
            for _ in range(samples):
                job = await store.enqueue(JobSpec("noop", queue=QUEUE))
                while True:
                    current = await store.get(job.id)
                    if current.started_at is not None:
                        break
                    await asyncio.sleep(0.002)
                delays.append((current.started_at - current.created_at).total_seconds())
                await asyncio.sleep(0.02)
            await asyncio.sleep(6)  # let the worker settle and heartbeat
            async with store.db.read() as conn:
                # The worker started for this measurement (the drain's have stopped).
                rss = await conn.scalar(
                    sa.select(sa.func.max(workers_table.c.rss_bytes)).where(
                        workers_table.c.state == "running"
                    )
                )
            return delays, (rss or 0) / 2**20

    try:
        delays, rss = asyncio.run(measure())
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return percentile(delays, 50) * 1000, percentile(delays, 99) * 1000, rss


async def wait_for_worker(db: database.Database, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with db.read() as conn:
            running = await conn.scalar(
                sa.select(sa.func.count()).where(workers_table.c.state == "running")
            )
        if running:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the worker did not start")


# -- report ----------------------------------------------------------------------------


def run_backend(backend: str, server: str | None, args: argparse.Namespace, tmp: Path) -> None:
    print(f"\n== {backend} ==", flush=True)
    url = fresh_database(backend, server, tmp)
    one = asyncio.run(enqueue_one_by_one(url, min(args.jobs, 2000)))
    print(f"enqueue one-by-one        {one:>10,.0f} jobs/s", flush=True)
    bulk = asyncio.run(enqueue_bulk(url, args.jobs))
    print(f"enqueue bulk              {bulk:>10,.0f} jobs/s", flush=True)
    loop = claim_and_complete(url, args.jobs)
    print(f"claim+complete, 2 procs   {loop:>10,.0f} jobs/s  ({args.jobs:,} jobs)", flush=True)
    p50, p99 = enqueue_to_claim_latency(url, args.samples)
    print(f"enqueue->claim latency    p50 {p50:6.1f} ms   p99 {p99:6.1f} ms", flush=True)
    rate, wall = drain(url, args.jobs, args.concurrency)
    print(
        f"worker drain, 2 procs     {rate:>10,.0f} jobs/s  "
        f"({args.jobs:,} jobs; {wall:.1f}s wall incl. start-up)",
        flush=True,
    )
    p50, p99, rss = enqueue_to_start_latency(url, args.samples)
    print(f"enqueue->start (worker)   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms", flush=True)
    print(f"worker RSS at rest        {rss:10.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="scrapeyard queue benchmark")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    print(f"scrapeyard queue benchmark: {args.jobs:,} noop jobs, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="scrapeyard-bench-") as tmp:
        for backend in backends:
            if backend == "postgresql":
                with postgres_server(args.postgres_url) as server:
                    run_backend(backend, server, args, Path(tmp))
            else:
                run_backend(backend, None, args, Path(tmp))


if __name__ == "__main__":
    main()
