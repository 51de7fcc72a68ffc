"""Every error scrapeyard raises on purpose, in one tree.

Foreign exceptions (SQLAlchemy, asyncpg, aiohttp, ...) are caught where those libraries
are called and re-raised as one of these, ``from`` the original. The API and the CLI
translate this tree into HTTP statuses and exit codes in one place each.

    ScrapeyardError
    ├── InvalidInput                 bad input; names the field and the problem
    │   ├── UnknownKind              no job kind of that name is registered
    │   ├── ConfigError              a setting, a config file or a flag is wrong
    │   ├── MalformedFile            a file to import cannot be read; names the line
    │   └── RecordRejected           a record failed its dataset's checks; says why
    ├── RequestRefused               the API refused a request before doing anything
    │   ├── NotAuthenticated         no valid API key (401)
    │   ├── NotPermitted             the key's scope is too narrow (403)
    │   └── RateLimited              too many requests with the key; retry later (429)
    ├── DatabaseError
    │   ├── DatabaseUnavailable      cannot connect (the password is never shown)
    │   │   └── TransactionConflict  rolled back by a deadlock or serialization
    │   │                            failure; safe to run again
    │   └── SchemaOutOfDate          migrations are pending; says which command fixes it
    ├── QueueError
    │   ├── JobNotFound
    │   ├── InvalidTransition        e.g. cancelling a job that already finished
    │   ├── LeaseLost                the job was rescued or re-claimed; this worker's
    │   │                            writes about it were refused
    │   ├── ScheduleNotFound
    │   ├── ScheduleConflict         e.g. a schedule name already taken
    │   ├── WebhookNotFound
    │   └── DeliveryNotFound         no webhook delivery with that id
    ├── DatasetError
    │   ├── DatasetNotFound
    │   └── DatasetConflict          e.g. a run keyed differently from its dataset
    ├── JobError                     raised by job handlers to steer the runner
    │   ├── RetryLater               retry after a delay the handler chooses
    │   ├── PermanentError           fail now, do not retry
    │   ├── JobCancelled             the handler stopped because cancellation was requested
    │   ├── JobInterrupted           the handler stopped early for a worker shutdown;
    │   │                            the job goes back to the queue, attempt not counted
    │   └── JobTimeout               the job ran past its timeout (retryable)
    └── CrawlError
        ├── FetchError               the page could not be fetched
        │   ├── FetchTimeout
        │   ├── ConnectionFailed
        │   ├── TooManyRedirects
        │   ├── BodyTooLarge
        │   └── HostCircuitOpen      the host failed too often; waiting for a cool-down
        ├── BlockedAddress           the host resolves to a network that is not allowed
        ├── UnsupportedScheme        only http and https are fetched
        ├── RobotsDisallowed         robots.txt forbids the URL
        ├── UnsupportedContentType   recorded, not parsed
        ├── RenderError              the browser could not render the page
        │   ├── RenderTimeout        navigation, waits and actions ran past the timeout
        │   ├── RendererCrashed      the page's renderer process died (out of memory, ...)
        │   ├── BrowserCrashed       the browser died under the page; it is retried
        │   └── ActionFailed         a wait or an action could not be done
        └── BrowserUnavailable       Playwright or Chromium is missing; says how to fix it
"""

from __future__ import annotations

import math


class ScrapeyardError(Exception):
    """Something went wrong in scrapeyard."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or type(self).__name__).strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


# -- bad input ------------------------------------------------------------------------


class InvalidInput(ScrapeyardError):
    """Invalid input."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class UnknownKind(InvalidInput):
    """No job kind of that name is registered."""

    def __init__(self, kind: str, known: list[str]) -> None:
        self.kind = kind
        choices = ", ".join(sorted(known)) or "none"
        super().__init__("kind", f"unknown job kind {kind!r} (registered: {choices})")


class ConfigError(InvalidInput):
    """A setting is invalid."""


class MalformedFile(InvalidInput):
    """A file to import cannot be read; ``line`` is where (1-based), when known."""

    def __init__(self, line: int | None, problem: str) -> None:
        self.line = line
        super().__init__(f"line {line}" if line is not None else "file", problem)


class RecordRejected(InvalidInput):
    """A record failed its dataset's checks (schema, key, a processor); it is set aside."""

    def __init__(self, reason: str, field: str = "record") -> None:
        self.reason = reason
        super().__init__(field, reason)


# -- refused by the API -------------------------------------------------------------


class RequestRefused(ScrapeyardError):
    """The API refused the request before doing anything."""


class NotAuthenticated(RequestRefused):
    """No valid API key: send one in the header 'Authorization: Bearer KEY'."""


class NotPermitted(RequestRefused):
    """The API key's scope does not allow this."""

    def __init__(self, needed: str, held: str) -> None:
        self.needed = needed
        self.held = held
        super().__init__(f"this needs a key with scope {needed!r}; this key's scope is {held!r}")


class RateLimited(RequestRefused):
    """Too many requests with this key; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many requests with this key; retry in {self.retry_after}s")


# -- database -------------------------------------------------------------------------


class DatabaseError(ScrapeyardError):
    """The database failed."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached."""


class TransactionConflict(DatabaseUnavailable):
    """The database rolled a transaction back because it collided with another one (a
    deadlock or a serialization failure). Nothing of it was stored and running it again
    is safe, so every caller that waits out an unreachable database retries it too."""


class SchemaOutOfDate(DatabaseError):
    """The database schema is older than this version of scrapeyard."""


# -- queue ----------------------------------------------------------------------------


class QueueError(ScrapeyardError):
    """A queue operation failed."""


class JobNotFound(QueueError):
    """No job with that id exists."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} not found")


class InvalidTransition(QueueError):
    """The job is not in a state that allows this operation."""

    def __init__(self, job_id: int, status: str, action: str) -> None:
        self.job_id = job_id
        self.status = status
        self.action = action
        super().__init__(f"cannot {action} job {job_id}: it is {status}")


class LeaseLost(QueueError):
    """The job's lease passed to another owner; this worker's writes were refused."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"lease on job {job_id} was lost; the write was refused")


class ScheduleNotFound(QueueError):
    """No schedule with that id or name exists."""

    def __init__(self, schedule: int | str) -> None:
        self.schedule = schedule
        super().__init__(f"schedule {schedule!r} not found")


class ScheduleConflict(QueueError):
    """The schedule cannot be created or changed that way (e.g. its name is taken)."""


class WebhookNotFound(QueueError):
    """No webhook subscription with that id exists."""

    def __init__(self, webhook_id: int) -> None:
        self.webhook_id = webhook_id
        super().__init__(f"webhook {webhook_id} not found")


class DeliveryNotFound(QueueError):
    """No webhook delivery with that id exists (or it was purged)."""

    def __init__(self, delivery_id: int) -> None:
        self.delivery_id = delivery_id
        super().__init__(f"webhook delivery {delivery_id} not found")


# -- datasets -------------------------------------------------------------------------


class DatasetError(ScrapeyardError):
    """A dataset operation failed."""


class DatasetNotFound(DatasetError):
    """No dataset of that name exists."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"dataset {name!r} not found")


class DatasetConflict(DatasetError):
    """The request contradicts how the dataset is set up."""


# -- raised by job handlers -----------------------------------------------------------


class JobError(ScrapeyardError):
    """A job handler failed in a way that tells the runner what to do next."""


class RetryLater(JobError):
    """Retry this job after ``delay`` seconds (counts as an attempt)."""

    def __init__(self, delay: float, message: str | None = None) -> None:
        if delay < 0:
            raise ValueError("delay must not be negative")
        self.delay = float(delay)
        super().__init__(message or f"retry requested in {delay:g}s")


class PermanentError(JobError):
    """The job failed and retrying will not help."""


class JobCancelled(JobError):
    """The job stopped because its cancellation was requested."""


class JobInterrupted(JobError):
    """The handler stopped early because its worker is shutting down."""


class JobTimeout(JobError):
    """The job ran past its timeout."""


# -- crawling -------------------------------------------------------------------------


class CrawlError(ScrapeyardError):
    """A page could not be crawled."""


class FetchError(CrawlError):
    """The page could not be fetched."""


class FetchTimeout(FetchError):
    """The server did not answer in time."""


class ConnectionFailed(FetchError):
    """The connection to the server failed."""


class TooManyRedirects(FetchError):
    """The page redirected too many times."""


class BodyTooLarge(FetchError):
    """The response body is larger than the limit."""


class HostCircuitOpen(FetchError):
    """The host failed too many times in a row; requests wait for a cool-down."""


class BlockedAddress(CrawlError):
    """The host resolves to an address in a network that is not allowed."""


class UnsupportedScheme(CrawlError):
    """Only http and https URLs are fetched."""


class RobotsDisallowed(CrawlError):
    """robots.txt does not allow fetching this URL."""


class UnsupportedContentType(CrawlError):
    """The response is not HTML; it is recorded but not parsed."""


class RenderError(CrawlError):
    """The browser could not render the page."""


class RenderTimeout(RenderError):
    """The page did not finish rendering (navigation, waits, actions) in time."""


class RendererCrashed(RenderError):
    """The page's renderer process died while rendering it."""


class BrowserCrashed(RenderError):
    """The browser died while rendering the page."""


class ActionFailed(RenderError):
    """A wait or an action on the rendered page could not be done."""


class BrowserUnavailable(CrawlError):
    """The browser cannot be started: Playwright or Chromium is missing."""
