"""The daily report, sent by a ``report.send`` job to each recipient on its own."""

from __future__ import annotations

import sqlalchemy as sa

from scrapeyard.notify import alerts, runtime
from scrapeyard.queue.dialects import now
from scrapeyard.queue.jobs import JobSpec
from scrapeyard.queue.store import JobStore
from scrapeyard.queue.tables import dataset_runs, datasets
from tests.notify import support
from tests.notify.conftest import Configure, mail_settings
from tests.sites import server, tree
from tests.support.waiting import until

COUNTS = {"received": 5, "unchanged": 1, "rejected": 0, "duplicates": 0}


async def _dataset_run(store: JobStore, name: str, new: int, changed: int, gone: int) -> None:
    """A finished dataset run, as the datasets feature records one."""
    async with store.transaction() as tx:
        dataset_id = await tx.scalar(
            sa.insert(datasets)
            .values(
                name=name, key=["url"], processors=[], types={}, created_at=now(), updated_at=now()
            )
            .returning(datasets.c.id)
        )
        await tx.execute(
            sa.insert(dataset_runs).values(
                dataset_id=dataset_id,
                source="crawl",
                full=True,
                status="succeeded",
                new=new,
                changed=changed,
                gone=gone,
                started_at=now(),
                finished_at=now(),
                **COUNTS,
            )
        )


async def _finished(store: JobStore, ids: list[int]) -> bool:
    return all(job.finished for job in (await store.get_many(ids)).values())


async def test_the_daily_report_tells_each_recipient_what_ran_failed_and_changed(
    store: JobStore,
    configure: Configure,
    smtp: tuple[support.Inbox, int],
    sites: server.ServerThread,
) -> None:
    inbox, port = smtp
    readers = ["boss@example.com", "team@example.com"]
    configure(email=mail_settings(port, daily_report=readers, alerts=["ops@example.com"]))
    site = sites.serve(tree.tree_site(3))
    await _dataset_run(store, "leads", new=3, changed=1, gone=0)
    await _dataset_run(store, "quiet", new=0, changed=0, gone=0)
    await alerts.rate_limited(store, "slow.example", "429s", runtime.current().email)

    async with support.running_worker(store):
        seeds = [
            await store.enqueue(JobSpec("noop")),
            await store.enqueue(JobSpec("noop")),
            await store.enqueue(JobSpec("test.fail", {"how": "permanent"})),
            await store.enqueue(
                JobSpec("scrape", {"urls": [site.url("/"), site.url("/p/1"), site.url("/p/9")]})
            ),
        ]
        await until(lambda: _finished(store, [job.id for job in seeds]), timeout=20)
        report = await store.enqueue(JobSpec("report.send", {"period": "daily"}))
        await until(lambda: _finished(store, [report.id]), timeout=20)
        await until(lambda: _two_reports(inbox), timeout=20)

    assert (await store.get(report.id)).result["sent"] == 2
    mails = _reports(inbox)
    assert sorted(r for m in mails for r in m.recipients) == readers
    assert all(len(m.recipients) == 1 for m in mails)
    mail = mails[0]
    assert "daily report for" in str(mail.message["Subject"])
    assert ", 1 failed, 2 pages" in str(mail.message["Subject"])
    text, html = mail.part("plain"), mail.part("html")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "noop 2 succeeded, 0 failed, 0 cancelled" in lines
    assert "test.fail 0 succeeded, 1 failed, 0 cancelled" in lines
    assert "PermanentError: this will never work 1" in lines
    assert "page: HTTP 404 1" in lines
    assert "fetched 2" in lines and "failed 1" in lines
    assert "slow.example 1 rate-limit alerts" in lines
    assert "leads 3 new, 1 changed, 0 gone" in lines
    assert not any(line.startswith("quiet") for line in lines)
    assert "<h3>Datasets changed</h3>" in html and "leads" in html
    assert "this will never work" in html


async def _two_reports(inbox: support.Inbox) -> bool:
    return len(_reports(inbox)) == 2


def _reports(inbox: support.Inbox) -> list[support.Mail]:
    return [m for m in inbox.snapshot() if "daily report" in str(m.message["Subject"])]


async def test_a_report_without_recipients_or_with_bad_ones_sends_nothing(
    store: JobStore, configure: Configure
) -> None:
    configure(email={"host": "127.0.0.1"})
    for payload, field in [({"period": "hourly"}, "period"), ({"to": ["not an address"]}, "to")]:
        try:
            await store.enqueue(JobSpec("report.send", payload))
        except Exception as exc:
            assert field in str(exc)
        else:
            raise AssertionError(f"{payload} was accepted")
    async with support.running_worker(store):
        job = await store.enqueue(JobSpec("report.send", {"period": "weekly"}))
        await until(lambda: _finished(store, [job.id]), timeout=20)
    assert (await store.get(job.id)).result == {
        "period": "weekly",
        "sent": 0,
        "note": "nobody receives the weekly report",
    }
