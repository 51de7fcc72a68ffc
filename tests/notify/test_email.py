"""E-mail to a local SMTP server: job notifications, and the SMTP password kept secret."""

from __future__ import annotations

import logging

import pytest

from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.notices import NoticeStore
from scrapeyard.queue.store import JobStore
from tests.notify import support
from tests.notify.conftest import Configure, mail_settings
from tests.support.waiting import until


async def _mails(inbox: support.Inbox, count: int) -> bool:
    return len(inbox.snapshot()) >= count


async def _sending_failed(store: JobStore) -> bool:
    """An e-mail job failed for good."""
    found = await store.list_jobs(limit=100)
    return any(j.kind == "email.send" and j.status is JobStatus.FAILED for j in found.jobs)


async def test_a_final_failure_is_mailed_to_the_failure_list_and_a_success_is_not(
    store: JobStore, configure: Configure, smtp: tuple[support.Inbox, int]
) -> None:
    inbox, port = smtp
    to = ["ops@example.com", "oncall@example.com"]
    configure(email=mail_settings(port, on_failure=to))

    async with support.running_worker(store):
        failed = await store.enqueue(JobSpec("test.fail", {"how": "permanent"}))
        retried = await store.enqueue(JobSpec("test.fail", {"how": "error"}, max_attempts=2))
        await store.enqueue(JobSpec("noop"))
        await until(lambda: _mails(inbox, 2), timeout=20)

    # The worker has stopped, so every hook has run: nothing else was even composed.
    notices = await NoticeStore(store.db).recent()
    assert len(notices) == 2 and all(n.sent_at is not None for n in notices)
    mails = sorted(inbox.snapshot(), key=lambda m: str(m.message["Subject"]))
    # One per job that failed for good (the retried job's first failure sent nothing).
    assert len(mails) == 2
    first = mails[0]
    assert first.sender == "scrapeyard@example.com" and sorted(first.recipients) == sorted(to)
    assert first.message["To"] == "ops@example.com, oncall@example.com"
    assert first.message["Subject"] == (
        f"[scrapeyard] job {failed.id} (test.fail) failed: PermanentError"
    )
    assert first.message.get_content_type() == "multipart/alternative"
    text, html = first.part("plain"), first.part("html")
    assert f"Job {failed.id} (test.fail) failed" in text
    assert "PermanentError: this will never work" in text and "1 of 3" in text
    assert "<table>" in html and "this will never work" in html
    assert f"job {retried.id} (test.fail) failed: ValueError" in str(mails[1].message["Subject"])
    assert "2 of 2" in mails[1].part("plain")


async def test_success_mail_is_opt_in_and_filtered_by_kind(
    store: JobStore, configure: Configure, smtp: tuple[support.Inbox, int]
) -> None:
    inbox, port = smtp
    configure(email=mail_settings(port, on_success=["lead@example.com"], kinds=["noop"]))

    async with support.running_worker(store):
        untold = await store.enqueue(JobSpec("test.record"))
        told = await store.enqueue(JobSpec("noop", {"rows": 42}))
        await until(lambda: _mails(inbox, 1), timeout=20)

    assert (await store.get(untold.id)).status is JobStatus.SUCCEEDED
    assert len(await NoticeStore(store.db).recent()) == 1  # nothing about test.record
    [mail] = inbox.snapshot()
    assert mail.recipients == ["lead@example.com"]
    assert mail.message["Subject"] == f"[scrapeyard] job {told.id} (noop) succeeded"
    assert "rows" in mail.part("plain") and "42" in mail.part("plain")
    assert "<td>42</td>" in mail.part("html")


async def test_the_smtp_password_authenticates_and_never_reaches_a_log_or_an_error(
    store: JobStore, configure: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    password = "s3cret-Pa55word"
    with support.smtp_server(credentials=("mailer", password)) as (inbox, port):
        configure(
            email=mail_settings(
                port, user="mailer", password=password, on_failure=["a@example.com"]
            )
        )
        caplog.set_level(logging.DEBUG)
        async with support.running_worker(store):
            await store.enqueue(JobSpec("test.fail", {"how": "permanent"}))
            await until(lambda: _mails(inbox, 1), timeout=20)

        configure(
            email=mail_settings(
                port, user="mailer", password="wrong-" + password, on_failure=["a@example.com"]
            )
        )
        async with support.running_worker(store):
            await store.enqueue(JobSpec("test.fail", {"how": "permanent"}))
            await until(lambda: _sending_failed(store), timeout=20)
        assert len(inbox.snapshot()) == 1

    [refused] = [n for n in await NoticeStore(store.db).recent() if n.sent_at is None]
    assert refused.error is not None and "535" in refused.error
    sender = await store.list_jobs(limit=100)
    failed = [j for j in sender.jobs if j.kind == "email.send" and j.status is JobStatus.FAILED]
    assert len(failed) == 1  # authentication refused for good: not retried
    logged = caplog.text + repr(refused) + str(failed[0].error)
    assert password not in logged and "wrong-" not in logged
