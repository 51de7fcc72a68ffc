"""A job's life as Server-Sent Events, by polling the store for changes.

The stream sends, in order:

- ``job``: the job as it is now; again whenever it is seen to have changed (status,
  progress, attempts, error) when the stream looks, every ``poll_interval``;
- ``history``: each entry of the job's history, the past ones first, then new ones as
  they are recorded, so no transition is missed even if it came and went between two
  looks; its SSE ``id`` is the entry's id, so a client that reconnects with
  ``Last-Event-ID`` gets only what it missed;
- ``end``: the job finished; the data is the final job, and the stream closes;
- ``deleted``: the job was deleted (data: its id); the stream closes.

Polling one row by primary key every ``poll_interval`` is cheap on both backends and
works the same whichever process or host changes the job. A comment line goes out
after ``heartbeat`` seconds of silence so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi.sse import ServerSentEvent

from scrapeyard import errors
from scrapeyard.api import schemas
from scrapeyard.queue.jobs import Job
from scrapeyard.queue.store import JobStore

RETRY_MS = 2000
"""How long a browser's ``EventSource`` waits before reconnecting."""


class StreamGate:
    """Open while the server runs; once closed, every live stream ends at its next look.

    Long-lived streams would otherwise hold a graceful shutdown open until they time out.
    """

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def _fingerprint(job: Job) -> tuple[Any, ...]:
    return (job.updated_at, job.status, job.attempts, job.cancel_requested, job.progress)


async def follow(
    store: JobStore,
    job: Job,
    *,
    gate: StreamGate,
    poll_interval: float,
    heartbeat: float,
    last_event_id: int = 0,
) -> AsyncIterator[ServerSentEvent]:
    """The events of ``job`` until it finishes, the gate closes or the job is deleted.

    A database blip does not end the stream: it keeps sending heartbeats and looks
    again at the next tick.
    """
    seen = last_event_id
    last: tuple[Any, ...] | None = None
    silent_since = time.monotonic()
    while not gate.closed:
        if _fingerprint(job) != last:
            try:
                history = await store.events(job.id)
            except errors.JobNotFound:
                yield _deleted(job)
                return
            except errors.DatabaseUnavailable:
                history = None
            if history is not None:
                for event in history:
                    if event.id > seen:
                        seen = event.id
                        yield ServerSentEvent(
                            event="history", id=str(event.id), data=schemas.JobEvent.of(event)
                        )
                summary = schemas.JobSummary.of(job)
                yield ServerSentEvent(
                    event="job", data=summary, retry=RETRY_MS if last is None else None
                )
                last = _fingerprint(job)
                silent_since = time.monotonic()
                if job.finished:
                    yield ServerSentEvent(event="end", data=summary)
                    return
        if time.monotonic() - silent_since >= heartbeat:
            yield ServerSentEvent(comment="keep-alive")
            silent_since = time.monotonic()
        await asyncio.sleep(poll_interval)
        try:
            job = await store.get(job.id)
        except errors.JobNotFound:
            yield _deleted(job)
            return
        except errors.DatabaseUnavailable:
            continue


def _deleted(job: Job) -> ServerSentEvent:
    return ServerSentEvent(event="deleted", data={"id": job.id})
