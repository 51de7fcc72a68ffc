"""Job kinds for tests. Workers load them with SCRAPEYARD_IMPORTS=tests.support.kinds.

Each execution appends ``job_id attempt pid`` to the file named in the payload's
``log`` (so a test can count executions), and a ``results`` job records its result in
``test_results`` through ``on_success``: a primary key there proves the result was
committed exactly once.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import errors, job_kind
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.worker.context import JobContext

metadata = sa.MetaData()
results = sa.Table(
    "test_results",
    metadata,
    sa.Column("job_id", sa.BigInteger, primary_key=True),
    sa.Column("pid", sa.Integer, nullable=False),
)

_hoard: list[bytearray] = []


def _log_execution(ctx: JobContext) -> None:
    path = ctx.job.payload.get("log")
    if path:
        with open(path, "a") as out:
            out.write(f"{ctx.job.id} {ctx.job.attempts} {os.getpid()}\n")


@job_kind("test.record")
async def record(ctx: JobContext) -> dict[str, Any]:
    """Log the execution, sleep, and (with ``results``) record the result exactly once."""
    _log_execution(ctx)
    await asyncio.sleep(float(ctx.job.payload.get("sleep", 0)))
    if ctx.job.payload.get("results"):

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(sa.insert(results).values(job_id=ctx.job.id, pid=os.getpid()))

        ctx.on_success(write)
    return {"pid": os.getpid()}


@job_kind("test.allocate")
async def allocate(ctx: JobContext) -> None:
    """Keep ``mb`` megabytes alive in this process (to push it over its memory limit)."""
    _log_execution(ctx)
    block = bytearray(int(ctx.job.payload["mb"]) * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it counts in RSS
    _hoard.append(block)
    await asyncio.sleep(float(ctx.job.payload.get("sleep", 0)))


@job_kind("test.fail")
async def fail(ctx: JobContext) -> None:
    """Fail the way the payload says: ``error`` (default), ``permanent`` or ``retry_later``."""
    _log_execution(ctx)
    how = ctx.job.payload.get("how", "error")
    if how == "permanent":
        raise errors.PermanentError("this will never work")
    if how == "retry_later":
        raise errors.RetryLater(float(ctx.job.payload.get("delay", 0)), "come back later")
    raise ValueError("something broke")


@job_kind("test.cancellable")
async def cancellable(ctx: JobContext) -> None:
    """Wait for a cancellation and stop cleanly when it comes."""
    _log_execution(ctx)
    await ctx.progress(0, 1, phase="waiting")
    await ctx.cancelled.wait()
    ctx.raise_if_cancelled()


@job_kind("test.stubborn")
async def stubborn(ctx: JobContext) -> None:
    """Ignore cancellation requests (the worker must interrupt it)."""
    _log_execution(ctx)
    await asyncio.sleep(3600)


@job_kind("test.follow_up")
async def follow_up(ctx: JobContext) -> str:
    """Enqueue a noop follow-up that exists only if this job succeeds."""
    ctx.enqueue_on_success(JobSpec("noop", {"parent": ctx.job.id}))
    if ctx.job.payload.get("then_fail"):
        raise errors.PermanentError("failing after registering the follow-up")
    return "ok"


@job_kind("test.bad_result")
async def bad_result(ctx: JobContext) -> object:
    """Return something that is not JSON."""
    return {1, 2, 3}
