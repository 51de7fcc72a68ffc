"""Logging: readable lines at a terminal, JSON lines for machines, secrets masked in both.

Context such as the job id, kind, worker id and host travels in ``extra`` fields (use
``bind``) and appears as ``key=value`` in text mode and as keys in JSON mode.

Secrets never reach a log line: the ``SecretMask`` filter replaces every registered
secret (database passwords, API keys, proxy credentials) and the password part of any
URL (``scheme://user:password@host``) before a record is formatted.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

CONTEXT_FIELDS = ("job_id", "kind", "worker_id", "host", "queue", "attempt", "url")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")
_MASK = "***"
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class SecretMask(logging.Filter):
    """Masks registered secrets and URL passwords in every record it sees."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def mask(self, text: str) -> str:
        text = _URL_PASSWORD.sub(rf"\g<scheme>\g<user>:{_MASK}@", text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.mask(value))
        return True


secrets = SecretMask()
"""The process-wide mask; register secrets with ``logs.secrets.add(...)``."""


def _context(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRS and not key.startswith("_") and value is not None
    }


class TextFormatter(logging.Formatter):
    """``2026-11-25 09:12:00 INFO  scrapeyard.worker: job succeeded job_id=3 kind=noop``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
        context = " ".join(f"{k}={v}" for k, v in _context(record).items())
        line = f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if context:
            line = f"{line}  {context}"
        if record.exc_text or record.exc_info:
            line = f"{line}\n{record.exc_text or self.formatException(record.exc_info)}"  # type: ignore[arg-type]
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_text or record.exc_info:
            data["error"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return orjson.dumps(data, default=str).decode()


def configure(
    level: str = "info",
    fmt: Literal["text", "json"] = "text",
    *,
    stream: Any = None,
    secrets_to_mask: Iterable[str | None] = (),
) -> None:
    """Send scrapeyard's logs to ``stream`` (stderr) in ``fmt``, masking secrets."""
    secrets.add(*secrets_to_mask)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(secrets)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_scrapeyard", False):
            root.removeHandler(existing)
    handler._scrapeyard = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Chatty libraries stay at warning unless debugging.
    for name in ("aiosqlite", "asyncio", "alembic", "sqlalchemy", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


class BoundLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger that adds fixed context fields to every record."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def bind(logger: logging.Logger | BoundLogger, **context: Any) -> BoundLogger:
    """``logger`` with ``context`` added to every record it logs."""
    if isinstance(logger, BoundLogger):
        base: Mapping[str, Any] = logger.extra or {}
        return BoundLogger(logger.logger, {**base, **context})
    return BoundLogger(logger, context)
