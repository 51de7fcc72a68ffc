"""Schedules on a controllable clock: one job per fire time, missed runs, overlap, pausing.

The clock is the ``now`` passed to ``create`` and ``fire_due``; nothing here waits for a
real minute to pass.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from scrapeyard import config, connect, errors
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.schedules import (
    Fired,
    FireOutcome,
    JobTemplate,
    MissedPolicy,
    OverlapPolicy,
    ScheduleChanges,
    ScheduleSpec,
    ScheduleStore,
)
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import jobs as jobs_table
from scrapeyard.queue.timing import Timing
from scrapeyard.worker.handlers import Registry

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
NOOP = JobTemplate("noop", {"from": "schedule"})


def every(seconds: float, name: str = "tick", **policies: object) -> ScheduleSpec:
    return ScheduleSpec(name, Timing(interval=seconds), NOOP, **policies)  # type: ignore[arg-type]


@pytest.fixture
def schedules(store: JobStore) -> ScheduleStore:
    return ScheduleStore(store)


async def _jobs(store: JobStore) -> list[tuple[int, str, str | None]]:
    async with store.db.read() as conn:
        rows = await conn.execute(
            sa.select(jobs_table.c.id, jobs_table.c.kind, jobs_table.c.unique_key).order_by(
                jobs_table.c.id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_schedule_fires_once_at_each_fire_time(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60), now=T0)
    assert created.next_fire_at == T0 + timedelta(seconds=60)
    assert created.upcoming() == [T0 + timedelta(seconds=60 * i) for i in range(1, 6)]

    assert await schedules.fire_due(now=T0 + timedelta(seconds=59)) == []
    [fired] = await schedules.fire_due(now=T0 + timedelta(seconds=60))
    assert fired.outcome is FireOutcome.ENQUEUED
    assert fired.fire_at == T0 + timedelta(seconds=60)
    assert await schedules.fire_due(now=T0 + timedelta(seconds=61)) == [], "fired twice"

    job = await store.get(fired.job_id or 0)
    assert (job.kind, job.payload, job.status) == ("noop", {"from": "schedule"}, JobStatus.QUEUED)
    assert job.unique_key == f"schedule:{created.id}:{fired.fire_at.isoformat()}"
    after = await schedules.get(created.id)
    assert after.last_job_id == job.id
    assert after.last_fire_at == fired.fire_at
    assert after.next_fire_at == T0 + timedelta(seconds=120)
    [fire] = await schedules.fires(created.id)
    assert (fire.outcome, fire.job_id, fire.job_status) == (FireOutcome.ENQUEUED, job.id, "queued")


async def test_two_schedulers_make_exactly_one_job_per_fire_time(
    store: JobStore, schedules: ScheduleStore, settings: config.Settings
) -> None:
    created = await schedules.create(
        every(10, overlap=OverlapPolicy.ALLOW, missed=MissedPolicy.RUN_ONCE), now=T0
    )
    async with connect.open_store(settings) as other_store:
        other = ScheduleStore(other_store)
        for tick in range(1, 31):
            moment = T0 + timedelta(seconds=10 * tick)
            # Both race for the same fire time, as two hosts ticking each second would.
            await asyncio.gather(schedules.fire_due(now=moment), other.fire_due(now=moment))
    jobs = await _jobs(store)
    assert len(jobs) == 30
    assert len({key for _, _, key in jobs}) == 30
    fires = await schedules.fires(created.id, limit=100)
    assert sorted(f.fire_at for f in fires) == [
        T0 + timedelta(seconds=10 * tick) for tick in range(1, 31)
    ]
    assert {f.outcome for f in fires} == {FireOutcome.ENQUEUED}


async def test_skip_runs_nothing_for_fire_times_missed_in_downtime(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60, missed=MissedPolicy.SKIP), now=T0)
    back = T0 + timedelta(minutes=10, seconds=45)  # 10 fire times passed, the last 45 s ago

    fired = await schedules.fire_due(now=back)
    assert [f.outcome for f in fired] == [FireOutcome.MISSED] * 10
    assert await _jobs(store) == []
    after = await schedules.get(created.id)
    assert after.next_fire_at == T0 + timedelta(minutes=11)
    [on_time] = await schedules.fire_due(now=T0 + timedelta(minutes=11, seconds=2))
    assert on_time.outcome is FireOutcome.ENQUEUED


async def test_a_fire_served_within_its_grace_is_on_time(
    store: JobStore, schedules: ScheduleStore
) -> None:
    await schedules.create(every(3600, missed=MissedPolicy.SKIP), now=T0)
    [fired] = await schedules.fire_due(now=T0 + timedelta(hours=1, seconds=50))
    assert fired.outcome is FireOutcome.ENQUEUED


async def test_run_once_runs_one_job_for_the_latest_missed_fire_time(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60, missed=MissedPolicy.RUN_ONCE), now=T0)
    back = T0 + timedelta(hours=5, seconds=30)  # 300 fire times passed

    fired = await schedules.fire_due(now=back)
    enqueued = [f for f in fired if f.outcome is FireOutcome.ENQUEUED]
    assert [f.fire_at for f in enqueued] == [T0 + timedelta(hours=5)]
    assert len(await _jobs(store)) == 1
    missed = [f for f in fired if f.outcome is FireOutcome.MISSED]
    assert len(missed) == 10, "the most recent missed fire times are recorded, not all 299"
    assert max(f.fire_at for f in missed) == T0 + timedelta(hours=5) - timedelta(minutes=1)
    assert (await schedules.get(created.id)).next_fire_at == T0 + timedelta(hours=5, minutes=1)


async def test_run_once_after_a_very_long_gap_still_finds_the_latest_cron_time(
    store: JobStore, schedules: ScheduleStore
) -> None:
    spec = ScheduleSpec(
        "berlin-mornings",
        Timing(cron="0 6 * * *", timezone="Europe/Berlin"),
        NOOP,
        missed=MissedPolicy.RUN_ONCE,
    )
    await schedules.create(spec, now=T0)
    back = datetime(2030, 7, 1, 9, 0, tzinfo=UTC)  # years of missed mornings
    enqueued = [f for f in await schedules.fire_due(now=back) if f.job_id is not None]
    assert [f.fire_at for f in enqueued] == [datetime(2030, 7, 1, 4, 0, tzinfo=UTC)]


async def test_overlap_skip_waits_for_the_previous_run_to_finish(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60, overlap=OverlapPolicy.SKIP), now=T0)
    [first] = await schedules.fire_due(now=T0 + timedelta(seconds=60))
    [skipped] = await schedules.fire_due(now=T0 + timedelta(seconds=120))
    assert skipped.outcome is FireOutcome.SKIPPED
    assert skipped.job_id is None

    [running] = await store.claim("w", ["default"])
    assert running.id == first.job_id
    [still] = await schedules.fire_due(now=T0 + timedelta(seconds=180))
    assert still.outcome is FireOutcome.SKIPPED, "a running job is unfinished too"
    await store.complete(running)

    [second] = await schedules.fire_due(now=T0 + timedelta(seconds=240))
    assert second.outcome is FireOutcome.ENQUEUED
    outcomes = [f.outcome for f in await schedules.fires(created.id)]
    assert (
        outcomes
        == [
            FireOutcome.ENQUEUED,
            FireOutcome.SKIPPED,
            FireOutcome.SKIPPED,
            FireOutcome.ENQUEUED,
        ][::-1]
    )


async def test_overlap_allow_enqueues_while_the_previous_run_is_unfinished(
    store: JobStore, schedules: ScheduleStore
) -> None:
    await schedules.create(every(60, overlap=OverlapPolicy.ALLOW), now=T0)
    for minute in (1, 2, 3):
        [fired] = await schedules.fire_due(now=T0 + timedelta(minutes=minute))
        assert fired.outcome is FireOutcome.ENQUEUED
    assert len(await _jobs(store)) == 3


async def test_a_paused_schedule_does_not_fire_and_resumes_without_catching_up(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60, missed=MissedPolicy.RUN_ONCE), now=T0)
    paused = await schedules.pause(created.id)
    assert paused.paused and paused.upcoming() == []
    assert await schedules.fire_due(now=T0 + timedelta(hours=1)) == []

    resumed = await schedules.resume(created.id, now=T0 + timedelta(hours=1, seconds=5))
    assert resumed.next_fire_at == T0 + timedelta(hours=1, seconds=65)
    assert await schedules.fire_due(now=T0 + timedelta(hours=1, seconds=10)) == []
    assert await _jobs(store) == []


async def test_changing_the_timing_restarts_from_now(schedules: ScheduleStore) -> None:
    created = await schedules.create(every(60), now=T0)
    changed = await schedules.update(
        created.id,
        ScheduleChanges(
            timing=Timing(cron="30 * * * *"),
            job=JobTemplate("noop", {"v": 2}, queue="nightly", priority=5),
            overlap=OverlapPolicy.ALLOW,
        ),
        now=T0 + timedelta(minutes=5),
    )
    assert changed.next_fire_at == T0 + timedelta(minutes=30)
    assert changed.job == JobTemplate("noop", {"v": 2}, queue="nightly", priority=5)
    assert changed.overlap is OverlapPolicy.ALLOW
    assert changed.missed is MissedPolicy.SKIP


async def test_names_are_unique_and_unknown_schedules_are_named(schedules: ScheduleStore) -> None:
    first = await schedules.create(every(60, name="hourly"), now=T0)
    with pytest.raises(errors.ScheduleConflict, match="hourly"):
        await schedules.create(every(30, name="hourly"), now=T0)
    second = await schedules.create(every(30, name="other"), now=T0)
    with pytest.raises(errors.ScheduleConflict):
        await schedules.update(second.id, ScheduleChanges(name="hourly"))
    assert (await schedules.get("hourly")).id == first.id
    with pytest.raises(errors.ScheduleNotFound):
        await schedules.get(999)
    with pytest.raises(errors.ScheduleNotFound):
        await schedules.delete(999)
    assert [s.name for s in await schedules.list_schedules()] == ["hourly", "other"]


async def test_a_bad_job_template_is_refused_with_the_field(schedules: ScheduleStore) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        await schedules.create(
            ScheduleSpec("x", Timing(interval=60), JobTemplate("no-such-kind")), now=T0
        )
    assert caught.value.field == "job.kind"
    with pytest.raises(errors.InvalidInput) as caught:
        ScheduleSpec("x", Timing(interval=60), NOOP, missed="sometimes")  # type: ignore[arg-type]
    assert caught.value.field == "missed"
    assert await schedules.list_schedules() == []


async def test_a_job_that_can_no_longer_be_enqueued_is_recorded_as_failed(
    store: JobStore,
) -> None:
    lenient = ScheduleStore(JobStore(store.db))  # no kinds catalogue: anything goes
    created = await lenient.create(
        ScheduleSpec("gone", Timing(interval=60), JobTemplate("retired.kind")), now=T0
    )
    strict = ScheduleStore(JobStore(store.db, kinds=Registry()))
    [fired] = await strict.fire_due(now=T0 + timedelta(seconds=60))
    assert fired.outcome is FireOutcome.FAILED
    assert "retired.kind" in (fired.error or "")
    assert await _jobs(store) == []
    after = await strict.get(created.id)
    assert after.next_fire_at == T0 + timedelta(seconds=120), "a failure must not stall it"


async def test_deleting_a_schedule_keeps_the_jobs_it_made(
    store: JobStore, schedules: ScheduleStore
) -> None:
    created = await schedules.create(every(60), now=T0)
    [fired] = await schedules.fire_due(now=T0 + timedelta(seconds=60))
    await schedules.delete(created.id)
    assert (await store.get(fired.job_id or 0)).kind == "noop"
    assert await schedules.list_schedules() == []


async def test_the_fire_hook_writes_with_the_fire_and_cannot_stop_it(store: JobStore) -> None:
    told: list[tuple[str, int | None]] = []

    async def hook(conn: AsyncConnection, fired: Fired) -> None:
        told.append((str(fired.outcome), fired.job_id))
        await store.enqueue(JobSpec("noop", {"told": fired.job_id}), conn=conn)
        if len(told) == 2:
            raise RuntimeError("the hook broke")

    schedules = ScheduleStore(store, on_fire=hook)
    await schedules.create(every(60, overlap=OverlapPolicy.ALLOW), now=T0)
    [first] = await schedules.fire_due(now=T0 + timedelta(seconds=60))
    [second] = await schedules.fire_due(now=T0 + timedelta(seconds=120))
    assert told == [("enqueued", first.job_id), ("enqueued", second.job_id)]
    payloads = [(await store.get(job_id)).payload for job_id, _, _ in await _jobs(store)]
    assert payloads == [{"from": "schedule"}, {"told": first.job_id}, {"from": "schedule"}], (
        "the first hook's write must commit; the failing one's must not, the fire must"
    )
