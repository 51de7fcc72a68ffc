"""The job store: every state transition of a job, each one guarded SQL statement.

A transition's ``UPDATE`` names the status it expects and, for a running job, the lease
token of the claim that is acting on it (``WHERE status = 'running' AND lease_token =
:token``). A worker whose lease expired, and whose job was rescued and claimed again,
therefore changes nothing: its ``complete`` or ``fail`` finds no row and raises
``LeaseLost``. That is the fencing that makes at-least-once delivery safe.

Methods that a job's own writes must commit with (``complete``, ``fail``, ``release``,
``enqueue``...) accept ``conn=``: pass the connection of ``transaction()`` and the
transition commits or rolls back together with the caller's writes.

``JobStore`` is one object assembled from parts, each owning a group of transitions:
``enqueuing.Enqueuing``, ``lifecycle.Lifecycle``, ``operations.Operations`` and
``housekeeping.Housekeeping``, over ``base.StoreBase`` and the read-side
``queries.JobQueries``.
"""

from __future__ import annotations

from scrapeyard.queue.base import JobDefaults
from scrapeyard.queue.enqueuing import Enqueuing
from scrapeyard.queue.housekeeping import Housekeeping, RescueReport
from scrapeyard.queue.lifecycle import Lease, Lifecycle
from scrapeyard.queue.operations import Operations

__all__ = ["JobDefaults", "JobStore", "Lease", "RescueReport"]


class JobStore(Enqueuing, Lifecycle, Operations, Housekeeping):
    """Every job operation on one ``Database``: reads, enqueueing, and every transition.

    ``kinds``, when given, is the catalogue of registered job kinds: enqueueing any
    other kind is refused, and a kind's defaults fill what a ``JobSpec`` leaves out.
    ``wakeup_signal`` is signalled after jobs become ready, so claim loops in this
    process wake at once.
    """
