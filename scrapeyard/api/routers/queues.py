"""``/v1/queues``: jobs per queue and status; pausing and resuming queues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from scrapeyard.api import errors, schemas
from scrapeyard.api.deps import AdminKey, ReadKey, Store
from scrapeyard.queue import queries
from scrapeyard.queue.store import JobStore

router = APIRouter(
    prefix="/v1/queues", tags=["queues"], responses=errors.responses(401, 403, 422, 429, 503)
)

QueueName = Annotated[schemas.Name, Path(description="The queue's name.")]


async def _queue(store: JobStore, name: str) -> schemas.Queue:
    # Not store.queues(): that leaves out a resumed queue without jobs.
    counts = (await store.counts()).get(name, {})
    paused = name in await store.paused_queues()
    return schemas.Queue.of(queries.QueueInfo(name, paused, counts))


@router.get("", summary="List queues")
async def list_queues(_key: ReadKey, store: Store) -> list[schemas.Queue]:
    """Every queue that has jobs or settings: jobs by status, and whether it is paused."""
    return [schemas.Queue.of(info) for info in await store.queues()]


@router.post("/{name}/pause", summary="Pause a queue")
async def pause(_key: AdminKey, store: Store, name: QueueName) -> schemas.Queue:
    """Workers on every host stop claiming from the queue; running jobs carry on.

    A queue with no jobs yet can be paused too: its jobs wait once they arrive.
    """
    await store.set_paused(name, True)
    return await _queue(store, name)


@router.post("/{name}/resume", summary="Resume a queue")
async def resume(_key: AdminKey, store: Store, name: QueueName) -> schemas.Queue:
    """Workers claim from the queue again, at once."""
    await store.set_paused(name, False)
    return await _queue(store, name)
