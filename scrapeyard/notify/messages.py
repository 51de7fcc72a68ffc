"""The words of each notification: subject, plain text and a simple HTML version.

Everything a message quotes (job kinds, error messages, host names) is escaped in the
HTML part; nothing of a job's payload is quoted, since payloads may hold credentials
(headers, cookies, proxies).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scrapeyard.queue.jobs import Job

MAX_ERROR_CHARS = 2000
PREFIX = "[scrapeyard]"


@dataclass(frozen=True)
class Message:
    """A notification's subject and its two bodies."""

    subject: str
    text: str
    html: str


def page(title: str, rows: Sequence[tuple[str, str]], sections: Sequence[str] = ()) -> str:
    """A small self-contained HTML page: a heading, a table of facts, then sections."""
    cells = "".join(
        f"<tr><th align='left' style='padding-right:1em'>{html.escape(name)}</th>"
        f"<td>{html.escape(value)}</td></tr>"
        for name, value in rows
    )
    return (
        "<!doctype html><html><body style='font-family:sans-serif'>"
        f"<h2>{html.escape(title)}</h2><table>{cells}</table>{''.join(sections)}</body></html>"
    )


def _facts(job: Job, duration: float | None) -> list[tuple[str, str]]:
    rows = [
        ("job", str(job.id)),
        ("kind", job.kind),
        ("queue", job.queue),
        ("attempt", f"{job.attempts} of {job.max_attempts}"),
    ]
    if duration is not None:
        rows.append(("ran for", f"{duration:.1f}s"))
    return rows


def _lines(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def job_failed(job: Job, error: Mapping[str, Any], duration: float | None) -> Message:
    """A job failed for good."""
    kind = str(error.get("type") or "Error")
    reason = str(error.get("message") or "")[:MAX_ERROR_CHARS]
    subject = f"{PREFIX} job {job.id} ({job.kind}) failed: {kind}"
    rows = [*_facts(job, duration), ("error", f"{kind}: {reason}" if reason else kind)]
    text = (
        f"Job {job.id} ({job.kind}) failed and will not be retried.\n\n{_lines(rows)}\n\n"
        f"See it with: scrapeyard jobs show {job.id}\n"
    )
    return Message(subject, text, page(f"Job {job.id} ({job.kind}) failed", rows))


def job_succeeded(job: Job, result: Any, duration: float | None) -> Message:
    """A job succeeded (for those who asked to hear it)."""
    subject = f"{PREFIX} job {job.id} ({job.kind}) succeeded"
    rows = _facts(job, duration)
    if isinstance(result, Mapping):
        rows += [
            (str(key), str(value))
            for key, value in list(result.items())[:10]
            if isinstance(value, str | int | float | bool)
        ]
    text = f"Job {job.id} ({job.kind}) succeeded.\n\n{_lines(rows)}\n"
    return Message(subject, text, page(f"Job {job.id} ({job.kind}) succeeded", rows))


def rate_limited(host: str, reason: str, hour: str) -> Message:
    """A host keeps rate-limiting crawls."""
    subject = f"{PREFIX} {host} is rate-limiting crawls"
    rows = [("host", host), ("what", reason), ("hour (UTC)", hour)]
    text = (
        f"{host} is rate-limiting crawls: {reason}.\n\n{_lines(rows)}\n\n"
        "Crawls back off and retry on their own. If this persists, lower the crawl's "
        "rate_limit or max_connections_per_host for this host.\n"
        "At most one such message is sent per host and hour.\n"
    )
    return Message(subject, text, page(f"{host} is rate-limiting crawls", rows))
