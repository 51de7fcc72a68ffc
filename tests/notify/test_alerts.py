"""Rate-limit alerts: at most one message per host and hour, across worker processes."""

from __future__ import annotations

from aiohttp import web

from scrapeyard import config, connect
from scrapeyard.notify import alerts
from scrapeyard.queue.jobs import JobSpec, JobStatus
from scrapeyard.queue.notices import NoticeStore
from scrapeyard.queue.store import JobStore
from tests.notify import support
from tests.notify.conftest import Configure, mail_settings
from tests.sites import server
from tests.support.waiting import until


def _throttling_site() -> web.Application:
    """A home page linking to five pages that all answer 429 Too Many Requests."""

    async def home(request: web.Request) -> web.StreamResponse:
        links = "".join(f'<a href="/p/{i}">{i}</a>' for i in range(5))
        return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")

    async def busy(request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "0"})

    app = server.logged_app()
    app.router.add_get("/", home)
    app.router.add_get("/p/{n}", busy)
    return app


async def _alerts(inbox: support.Inbox) -> list[support.Mail]:
    return [m for m in inbox.snapshot() if "rate-limiting" in str(m.message["Subject"])]


async def test_two_alerts_for_one_host_within_the_hour_send_one_message(
    store: JobStore,
    settings: config.Settings,
    configure: Configure,
    smtp: tuple[support.Inbox, int],
) -> None:
    inbox, port = smtp
    email = configure(email=mail_settings(port, alerts=["ops@example.com"])).email
    # Another process on the same database: its own store, its own connections.
    async with connect.open_store(settings) as elsewhere:
        first = await alerts.rate_limited(store, "shop.example", "429s", email)
        second = await alerts.rate_limited(elsewhere, "shop.example", "circuit open", email)
        other = await alerts.rate_limited(elsewhere, "blog.example", "429s", email)
    assert (first, second, other) == (True, False, True)

    async with support.running_worker(store):
        await until(lambda: _count(inbox, 2), timeout=20)
    mails = await _alerts(inbox)
    assert len(mails) == 2
    subjects = sorted(str(m.message["Subject"]) for m in mails)
    assert subjects == [
        "[scrapeyard] blog.example is rate-limiting crawls",
        "[scrapeyard] shop.example is rate-limiting crawls",
    ]
    assert all(m.recipients == ["ops@example.com"] for m in mails)
    assert "429s" in mails[0].part("plain") or "429s" in mails[1].part("plain")
    assert len(await NoticeStore(store.db).recent(kind="rate_limit")) == 2


async def test_a_crawl_of_a_host_answering_429_alerts_once_in_the_hour(
    store: JobStore,
    configure: Configure,
    smtp: tuple[support.Inbox, int],
    sites: server.ServerThread,
) -> None:
    inbox, port = smtp
    configure(email=mail_settings(port, alerts=["ops@example.com"], alert_after=2))
    site = sites.serve(_throttling_site())
    payload = {"url": site.url("/"), "retries": 1, "rate_limit": {"requests_per_second": 0}}

    async with support.running_worker(store):
        crawl = await store.enqueue(JobSpec("crawl", payload))
        [alert] = await until(lambda: _alerts(inbox), timeout=20)
        await until(lambda: _finished(store, crawl.id), timeout=20)
    # Another worker process (whose circuit for the host is closed) crawls it again.
    async with support.running_worker(store):
        again = await store.enqueue(JobSpec("crawl", payload))
        await until(lambda: _finished(store, again.id), timeout=20)

    host = f"127.0.0.1:{site.port}"
    assert str(alert.message["Subject"]) == f"[scrapeyard] {host} is rate-limiting crawls"
    assert "answered 429 Too Many Requests" in alert.part("plain")
    assert site.log.counts()["/p/0"] == 2  # both crawls asked, and were refused
    # The second crawl saw the same thing in the same hour: no second message.
    notices = await NoticeStore(store.db).recent(kind="rate_limit")
    assert [n.key for n in notices] == [host]
    assert len(await _alerts(inbox)) == 1


async def _count(inbox: support.Inbox, count: int) -> bool:
    return len(await _alerts(inbox)) >= count


async def _finished(store: JobStore, *ids: int) -> bool:
    found = await store.get_many(list(ids))
    return all(job.status is JobStatus.SUCCEEDED for job in found.values())
