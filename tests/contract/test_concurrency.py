"""Several processes on one database: no job runs twice, none is lost."""

from __future__ import annotations

import collections
import multiprocessing
from pathlib import Path

from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.store import JobStore
from tests.support import claimers

SPAWN = multiprocessing.get_context("spawn")


def _run_all(processes: list[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0, f"{process.name} exited with {process.exitcode}"


async def test_concurrent_claimers_run_every_job_exactly_once(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    total = 1500
    ids = await store.enqueue_many([JobSpec("noop", {"i": i}) for i in range(total)])
    logs = [tmp_path / f"claimer-{n}.log" for n in range(4)]
    start = SPAWN.Barrier(len(logs))

    _run_all(
        [
            SPAWN.Process(
                target=claimers.claim_until_empty,
                args=(database_url, f"claimer-{n}", str(log), 7, start),
                name=f"claimer-{n}",
            )
            for n, log in enumerate(logs)
        ]
    )

    executions = collections.Counter(int(line) for log in logs for line in log.read_text().split())
    assert set(executions) == set(ids), "a job was lost"
    assert max(executions.values()) == 1, "a job ran twice"
    assert sum(1 for log in logs if log.read_text()) > 1, "only one claimer got work"
    counts = await store.status_counts()
    assert counts[JobStatus.SUCCEEDED] == total


async def test_concurrent_enqueue_with_one_unique_key_makes_one_job(
    store: JobStore, database_url: str, tmp_path: Path
) -> None:
    outputs = [tmp_path / f"ids-{n}.txt" for n in range(4)]

    _run_all(
        [
            SPAWN.Process(
                target=claimers.enqueue_unique,
                args=(database_url, "the-key", 25, str(out)),
            )
            for out in outputs
        ]
    )

    returned = {int(line) for out in outputs for line in out.read_text().split()}
    assert len(returned) == 1
    assert sum((await store.status_counts()).values()) == 1
