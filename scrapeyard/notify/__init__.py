"""Telling people and systems what happened: signed webhooks, e-mail, reports, alerts.

    events.py    the events, who subscribes to them, and ``emit`` (the entry point)
    signing.py   Standard Webhooks signatures and secrets
    delivery.py  one HTTP attempt at a webhook delivery, behind the SSRF guard
    pages.py     job.page events: a crawl's stored pages, in batches
    email.py     composing messages and sending them over SMTP
    messages.py  the job notifications' text and HTML
    reports.py   the daily and weekly report
    alerts.py    rate-limit alerts, one per host and hour
    runtime.py   this process's notification settings

The job kinds that do the sending (``webhook.deliver``, ``email.send``, ``report.send``)
and the hooks that turn job events into messages live in ``scrapeyard.worker``; this
package knows the store and the network, not the worker.
"""
