"""Settings, built once at the edge (CLI, app factory) and handed out in small pieces.

Precedence, lowest to highest: defaults, a YAML file (``scrapeyard.yaml`` in the working
directory, or ``--config PATH``), ``SCRAPEYARD_*`` environment variables (nested fields
with ``__``: ``SCRAPEYARD_WORKER__CONCURRENCY=20``), then command-line flags.

Durations accept seconds as a number or a string with a unit: ``500ms``, ``30s``,
``15m``, ``2h``, ``7d``.
"""

from __future__ import annotations

import contextvars
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scrapeyard import errors

DEFAULT_CONFIG_FILE = "scrapeyard.yaml"
DEFAULT_DATABASE_URL = "sqlite:///./scrapeyard.db"
DEFAULT_DATA_DIR = Path("./scrapeyard-data")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``30``, ``"30s"``, ``"15m"``, ``"500ms"``, ``"2h"`` or ``"7d"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m or 2h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 30s, 15m or 2h")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration must not be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

BACKENDS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


def check_database_url(url: str) -> str:
    """The URL if scrapeyard can use it; a ``ValueError`` that never repeats a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(
            "not a database URL; expected sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ValueError(
            f"unsupported database {backend!r}; use sqlite:///PATH or postgresql://..."
        )
    if BACKENDS[backend] == "postgresql" and not parsed.database:
        raise ValueError("a PostgreSQL URL must name a database: postgresql://HOST/DBNAME")
    return url


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_comma_list)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSettings(_Section):
    """How jobs are leased, woken up and kept."""

    lease_duration: Duration = Field(30.0, gt=0, description="A claimed job's lease.")
    heartbeat_interval: Duration = Field(
        5.0, gt=0, description="How often workers renew leases and report in."
    )
    poll_interval: Duration = Field(
        0.25, gt=0, description="How often an idle worker looks for jobs without a wake-up."
    )
    retention: Duration = Field(7 * 86400.0, description="Finished jobs kept this long.")

    @pydantic.model_validator(mode="after")
    def _heartbeat_within_lease(self) -> QueueSettings:
        if self.lease_duration < 2 * self.heartbeat_interval:
            raise ValueError(
                "queue.lease_duration must be at least twice queue.heartbeat_interval, "
                "or leases expire between heartbeats"
            )
        return self


class RetrySettings(_Section):
    """Defaults for jobs that do not set their own retry policy."""

    max_attempts: int = Field(3, ge=1, le=1000)
    backoff: Literal["exponential", "fixed"] = "exponential"
    base_delay: Duration = Field(5.0, description="First retry delay.")
    max_delay: Duration = Field(3600.0, description="Cap on any retry delay.")
    jitter: float = Field(0.25, ge=0, le=1, description="Fraction of each delay randomised.")


class WorkerSettings(_Section):
    """The worker supervisor and its processes."""

    processes: int | None = Field(None, ge=1, description="Default: number of cores.")
    concurrency: int = Field(10, ge=1, le=10_000)
    memory_limit_mb: int = Field(1024, ge=16)
    shutdown_grace: Duration = 30.0
    job_timeout: Duration = Field(900.0, gt=0)


class RateLimit(_Section):
    requests_per_second: float = Field(5.0, ge=0, description="0 means unlimited.")
    burst: int = Field(10, ge=1)


class CrawlSettings(_Section):
    """Defaults for crawl and scrape jobs; each job may override them."""

    rate_limit: RateLimit = RateLimit()
    max_connections_per_host: int = Field(8, ge=1)
    respect_robots: bool = True
    user_agent: str = "scrapeyard/0.1 (+https://github.com/scrapeyard/scrapeyard)"
    timeout: Duration = Field(30.0, gt=0)
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)


class BrowserSettings(_Section):
    """The headless Chromium that renders pages for jobs with ``render`` (one per worker
    process). Never downloaded: Debian's ``chromium`` package, or the path given."""

    executable_path: Path | None = Field(
        None,
        description="Chromium or Chrome; found at /usr/bin/chromium, /usr/bin/chromium-browser "
        "or /usr/bin/google-chrome when not set.",
    )
    max_pages: int = Field(4, ge=1, le=256, description="Pages rendering at once per process.")
    restart_after_pages: int = Field(
        500, ge=1, description="Start a fresh browser after it rendered this many pages."
    )
    memory_limit_mb: int = Field(
        2048, ge=64, description="Start a fresh browser once it uses more than this (PSS)."
    )
    js_heap_mb: int = Field(
        1024, ge=16, description="A page's JavaScript heap; past it, its renderer crashes."
    )
    block_resources: CommaList = Field(
        default_factory=lambda: ["image", "font", "media"],
        description="Resource types never loaded, unless a job says otherwise.",
    )
    allow_evaluate: bool = Field(
        False, description="Let jobs run their own JavaScript (the `evaluate` action)."
    )
    args: CommaList = Field(default_factory=list, description="Extra Chromium flags.")


class ApiSettings(_Section):
    """Limits of each API process."""

    rate_limit: float = Field(50.0, gt=0, description="Requests per second per key, on average.")
    rate_burst: int = Field(200, ge=1, description="Requests a key may make at once.")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest request body.")
    metrics_from_loopback: bool = Field(
        True, description="Serve /metrics without a key to clients on the same machine."
    )
    max_upload_bytes: int = Field(
        1024 * 1024 * 1024, ge=1024, description="Largest file uploaded to POST /v1/imports."
    )


def _reveal(value: SecretStr | None) -> str | None:
    """A secret in clear, for the JSON that carries settings to worker processes (stdin,
    never argv); ``repr`` and logs still show it masked."""
    return value.get_secret_value() if value is not None else None


def check_email_address(value: str) -> str:
    """``value`` if it looks like one e-mail address (no display name, no list)."""
    local, at, domain = value.partition("@")
    if not (local and at and domain) or any(c.isspace() or c in "<>,;" for c in value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


EmailAddress = Annotated[str, pydantic.AfterValidator(check_email_address)]
EmailList = Annotated[list[EmailAddress], NoDecode, BeforeValidator(_comma_list)]
DEFAULT_WEBHOOK_RETRY_DELAYS = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""After each failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27 h)."""


class WebhookSettings(_Section):
    """How webhook deliveries are made and retried (scrapeyard.notify)."""

    timeout: Duration = Field(10.0, gt=0, le=60, description="Seconds for one delivery.")
    retry_delays: list[Duration] = Field(
        default_factory=lambda: list(DEFAULT_WEBHOOK_RETRY_DELAYS),
        min_length=0,
        max_length=50,
        description="Wait after each failed attempt; one attempt more than delays listed.",
    )
    queue: str = Field("default", min_length=1, max_length=100)
    cache_ttl: Duration = Field(
        5.0, le=300, description="How long a process reuses its list of subscriptions."
    )
    page_batch_size: int = Field(50, ge=1, le=1000, description="Pages per job.page event.")
    page_batch_interval: Duration = Field(
        5.0, description="A crawl sends the pages it has at least this often."
    )
    secret: SecretStr | None = Field(
        None, description="whsec_ secret that signs deliveries to a job's `webhook` option."
    )
    retention: Duration = Field(30 * 86400.0, description="Deliveries are kept this long.")

    @field_serializer("secret", when_used="json")
    def _secret_json(self, value: SecretStr | None) -> str | None:
        return _reveal(value)


class EmailSettings(_Section):
    """SMTP, and who is told what by e-mail. No ``host``: no e-mail at all."""

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (port 587), tls (implicit, port 465) or none."
    )
    user: str | None = None
    password: SecretStr | None = Field(None, description="Best set as SCRAPEYARD_EMAIL__PASSWORD.")
    from_address: EmailAddress = "scrapeyard@localhost"
    timeout: Duration = Field(30.0, gt=0, le=300)
    on_failure: EmailList = Field(
        default_factory=list, description="Told when a job fails for good."
    )
    on_success: EmailList = Field(
        default_factory=list, description="Told when a job succeeds (opt-in)."
    )
    kinds: CommaList = Field(
        default_factory=list, description="Job kinds the two lists above hear about (all)."
    )
    daily_report: EmailList = Field(default_factory=list)
    weekly_report: EmailList = Field(default_factory=list)
    alerts: EmailList = Field(
        default_factory=list, description="Told when a host rate-limits crawls (hourly at most)."
    )
    alert_after: int = Field(
        3, ge=1, description="Pages of one crawl a host answered 429 before an alert."
    )

    @field_serializer("password", when_used="json")
    def _password_json(self, value: SecretStr | None) -> str | None:
        return _reveal(value)


class Settings(BaseSettings):
    """Everything configurable, validated once."""

    model_config = SettingsConfigDict(
        env_prefix="SCRAPEYARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    imports: CommaList = Field(
        default_factory=list, description="Modules to import so their job kinds register."
    )
    allowed_networks: CommaList = Field(
        default_factory=list, description="CIDRs that crawls may reach despite the SSRF guard."
    )
    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="Where uploaded imports, exports and dataset archives are kept.",
    )
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    queue: QueueSettings = QueueSettings()
    retry: RetrySettings = RetrySettings()
    worker: WorkerSettings = WorkerSettings()
    crawl: CrawlSettings = CrawlSettings()
    browser: BrowserSettings = BrowserSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    email: EmailSettings = EmailSettings()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlValues(settings_cls))


_yaml_values: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "scrapeyard_yaml_values", default=None
)


class _YamlValues(PydanticBaseSettingsSource):
    """The values read from the YAML file by ``load_settings``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_yaml_values.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_values.get() or {})


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise errors.ConfigError("config", f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise errors.ConfigError("config", f"{path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.ConfigError("config", f"{path} must hold a mapping of settings")
    return data


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the YAML file, the environment and ``overrides`` (flags).

    ``overrides`` with a value of ``None`` are ignored, so CLI options can be passed
    straight through; nested sections are dicts (``worker={"concurrency": 4}``).
    """
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise errors.ConfigError("config", f"no such file: {path}")
        file_values = _read_yaml(path)
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        file_values = _read_yaml(Path(DEFAULT_CONFIG_FILE))
    else:
        file_values = {}
    flags = _drop_none(overrides)
    token = _yaml_values.set(file_values)
    try:
        return Settings(**flags)
    except pydantic.ValidationError as exc:
        raise _config_error(exc) from None
    finally:
        _yaml_values.reset(token)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if not value:
                continue
        if value is not None:
            kept[key] = value
    return kept


def _config_error(exc: pydantic.ValidationError) -> errors.ConfigError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "config"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    return errors.ConfigError(field, message)


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
