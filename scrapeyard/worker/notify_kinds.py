"""The job kinds that send notifications: ``webhook.deliver``, ``email.send``, ``report.send``.

Sending is a job so that it is durable and retried like any other work:

- ``webhook.deliver`` makes one signed attempt at a delivery and logs it; a failed
  attempt is retried after the delays in ``webhooks.retry_delays`` (about a day in
  all), an address the SSRF guard refuses is not retried at all.
- ``email.send`` sends one notice (an e-mail written by ``notify.alerts``); an SMTP
  failure is retried with backoff, a refusal (5xx) is not.
- ``report.send`` builds the daily or weekly report and queues one e-mail per
  recipient. Schedules run it: ``scrapeyard schedules add --cron "0 7 * * *"
  report.send --payload '{"period": "daily"}'``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from scrapeyard import config, errors
from scrapeyard.notify import alerts, email, reports, runtime, signing
from scrapeyard.queue.notices import Draft, NoticeStore
from scrapeyard.queue.webhook_records import AttemptRecord, DeliveryStatus
from scrapeyard.queue.webhooks import WebhookStore
from scrapeyard.worker.context import JobContext
from scrapeyard.worker.handlers import job_kind

if TYPE_CHECKING:
    from scrapeyard.crawl import addresses

MAX_RECIPIENTS = 100


def _positive_id(field: str) -> Any:
    def validate(payload: Mapping[str, Any]) -> None:
        value = payload.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise errors.InvalidInput(field, "must be a positive id")

    return validate


def _policy(ctx: JobContext) -> addresses.AddressPolicy:
    """The worker's SSRF policy (the one its crawls use), or the configured one."""
    try:
        return ctx.resources.policy
    except RuntimeError:
        from scrapeyard.crawl import addresses

        return addresses.AddressPolicy(runtime.current().allowed_networks)


@job_kind("webhook.deliver", validate=_positive_id("delivery_id"))
async def deliver(ctx: JobContext) -> dict[str, Any]:
    """Make one signed attempt at a webhook delivery; retried on failure."""
    from scrapeyard.notify import delivery  # with aiohttp: only where webhooks are sent

    delivery_id = int(ctx.job.payload["delivery_id"])
    store = WebhookStore(ctx.db)
    target = await store.target(delivery_id)
    if target is None:
        return {"delivery_id": delivery_id, "skipped": "the delivery or its webhook was deleted"}
    message = target.delivery
    if not target.active:
        outcome = delivery.Attempt(None, None, None, "the webhook is disabled", permanent=True)
    else:
        body = orjson.dumps(message.payload)
        headers = signing.headers(target.secret, message.message_id, int(time.time()), body)
        outcome = await delivery.send(
            target.url,
            body,
            headers,
            policy=_policy(ctx),
            timeout=runtime.current().webhooks.timeout,
        )
    final = outcome.permanent or ctx.job.attempts >= ctx.job.max_attempts
    status: DeliveryStatus = "succeeded" if outcome.ok else "failed" if final else "retrying"
    await store.record_attempt(
        delivery_id,
        AttemptRecord(outcome.status_code, outcome.latency, outcome.excerpt, outcome.error, status),
    )
    summary = {"delivery_id": delivery_id, "status_code": outcome.status_code}
    if outcome.ok:
        ctx.log.info("webhook %s delivered: %d", message.event, outcome.status_code)
        return summary
    why = outcome.error or f"the receiver answered {outcome.status_code}"
    ctx.log.warning("webhook %s not delivered (%s)", message.event, why)
    if outcome.permanent:
        raise errors.PermanentError(f"webhook delivery {delivery_id} refused: {why}")
    raise errors.RetryLater(
        ctx.job.retry.delay(ctx.job.attempts), f"webhook delivery {delivery_id}: {why}"
    )


@job_kind("email.send", max_attempts=5, validate=_positive_id("notice_id"))
async def send_email(ctx: JobContext) -> dict[str, Any]:
    """Send one notice by e-mail; retried while the SMTP server is unreachable."""
    notice_id = int(ctx.job.payload["notice_id"])
    notices = NoticeStore(ctx.db)
    notice = await notices.get(notice_id)
    if notice is None:
        return {"notice_id": notice_id, "skipped": "the notice no longer exists"}
    if notice.sent_at is not None:
        return {"notice_id": notice_id, "skipped": "already sent"}
    settings = runtime.current().email
    message = email.compose(
        settings.from_address, notice.recipients, notice.subject, notice.text, notice.html
    )
    sent = await email.send(settings, message)
    if sent.ok:
        await notices.mark_sent(notice_id)
        return {"notice_id": notice_id, "recipients": len(notice.recipients)}
    await notices.mark_failed(notice_id, sent.error or "not sent")
    if sent.permanent:
        raise errors.PermanentError(f"e-mail {notice_id} not sent: {sent.error}")
    raise errors.RetryLater(
        ctx.job.retry.delay(ctx.job.attempts), f"e-mail {notice_id} not sent: {sent.error}"
    )


def _validate_report(payload: Mapping[str, Any]) -> None:
    unknown = sorted(set(payload) - {"period", "to"})
    if unknown:
        raise errors.InvalidInput(unknown[0], "unknown option (known: period, to)")
    period = payload.get("period", "daily")
    if period not in reports.PERIODS:
        raise errors.InvalidInput("period", "must be daily or weekly")
    to = payload.get("to")
    if to is None:
        return
    if not isinstance(to, list) or not to or len(to) > MAX_RECIPIENTS:
        raise errors.InvalidInput("to", f"must be a list of 1 to {MAX_RECIPIENTS} addresses")
    for index, address in enumerate(to):
        try:
            config.check_email_address(address if isinstance(address, str) else "")
        except ValueError:
            raise errors.InvalidInput(f"to[{index}]", "must be an e-mail address") from None


@job_kind("report.send", validate=_validate_report)
async def send_report(ctx: JobContext) -> dict[str, Any]:
    """Build the daily or weekly report and e-mail it to each recipient."""
    settings = runtime.current().email
    period: reports.Period = ctx.job.payload.get("period", "daily")
    configured = settings.daily_report if period == "daily" else settings.weekly_report
    recipients: list[str] = list(ctx.job.payload.get("to") or configured)
    if not recipients:
        return {"period": period, "sent": 0, "note": f"nobody receives the {period} report"}
    if not email.enabled(settings):
        raise errors.PermanentError("e-mail is not configured (email.host is not set)")
    report = await reports.build(ctx.db, period)
    text, html = report.text(), report.html()
    queued = 0
    for recipient in dict.fromkeys(recipients):
        # Keyed by job and recipient: a retried report job sends nobody a second copy.
        kind, key = f"report.{period}", f"job {ctx.job.id}"
        draft = Draft(kind, recipient, key, [recipient], report.subject, text, html)
        if await alerts.notify(ctx.store, draft) is not None:
            queued += 1
    figures = report.figures
    return {
        "period": period,
        "sent": queued,
        "jobs": sum(figures.finished.values()),
        "pages": figures.pages_fetched,
    }
