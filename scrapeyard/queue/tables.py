"""The schema, as SQLAlchemy Core tables. Migrations must produce exactly this."""

from __future__ import annotations

import sqlalchemy as sa

from scrapeyard.queue.dialects import JSON, Timestamp

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid); BIGINT would not.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _owned_by(name: str, target: str, *, primary_key: bool = False) -> sa.Column[int]:
    """A column referring to ``target`` (``table.id``): a row goes when its owner goes."""
    return sa.Column(
        name,
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey(target, ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


_STATUSES = "'waiting', 'scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'"
_UNFINISHED = "status IN ('waiting', 'scheduled', 'queued', 'running')"
_READY = "status IN ('scheduled', 'queued')"

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("queue", sa.String(100), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_at", Timestamp, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("retry", JSON, nullable=False),
    sa.Column("timeout", sa.Float, nullable=True),
    sa.Column("unique_key", sa.String(255), nullable=True),
    sa.Column("chain_id", sa.BigInteger, nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_token", sa.String(32), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("progress", JSON, nullable=True),
    sa.Column("result", JSON, nullable=True),
    sa.Column("error", JSON, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp, nullable=True),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    # The rescuer looks for running jobs whose lease ran out.
    sa.Index(
        "ix_jobs_lease_expires_at",
        "lease_expires_at",
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    ),
    # At most one unfinished job per unique key; finished jobs free their key.
    sa.Index(
        "uq_jobs_unique_key",
        "unique_key",
        unique=True,
        sqlite_where=sa.text(f"unique_key IS NOT NULL AND {_UNFINISHED}"),
        postgresql_where=sa.text(f"unique_key IS NOT NULL AND {_UNFINISHED}"),
    ),
    sa.Index("ix_jobs_status_id", "status", "id"),
    sa.Index(
        "ix_jobs_chain_id",
        "chain_id",
        sqlite_where=sa.text("chain_id IS NOT NULL"),
        postgresql_where=sa.text("chain_id IS NOT NULL"),
    ),
    sa.Index("ix_jobs_queue_status", "queue", "status"),
    sa.Index("ix_jobs_kind_id", "kind", "id"),
    sa.Index("ix_jobs_created_at", "created_at"),
    sa.Index(
        "ix_jobs_finished_at",
        "finished_at",
        sqlite_where=sa.text("finished_at IS NOT NULL"),
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    ),
)

# The claim reads this index in order: ready jobs of a queue by priority, then time.
sa.Index(
    "ix_jobs_ready",
    jobs.c.queue,
    jobs.c.priority.desc(),
    jobs.c.run_at,
    jobs.c.id,
    sqlite_where=sa.text(_READY),
    postgresql_where=sa.text(_READY),
)

job_dependencies = sa.Table(
    "job_dependencies",
    metadata,
    _owned_by("job_id", "jobs.id", primary_key=True),
    _owned_by("depends_on", "jobs.id", primary_key=True),
    sa.Index("ix_job_dependencies_depends_on", "depends_on"),
)

job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("job_id", "jobs.id"),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(200), nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("data", JSON, nullable=True),
    sa.Index("ix_job_events_job_id_id", "job_id", "id"),
)

queues = sa.Table(
    "queues",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("supervisor", sa.String(200), nullable=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("queues", JSON, nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.Column("jobs_running", sa.Integer, nullable=False),
    sa.Column("jobs_succeeded", sa.BigInteger, nullable=False),
    sa.Column("jobs_failed", sa.BigInteger, nullable=False),
    sa.Column("rss_bytes", sa.BigInteger, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.CheckConstraint("state IN ('starting', 'running', 'draining', 'stopped')", name="state"),
    sa.Index("ix_workers_last_seen_at", "last_seen_at"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=True),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.Column("last_used_at", Timestamp, nullable=True),
    sa.CheckConstraint("scope IN ('read', 'write', 'admin')", name="scope"),
    sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
)

# -- crawls ---------------------------------------------------------------------------

crawls = sa.Table(
    "crawls",
    metadata,
    _owned_by("job_id", "jobs.id", primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("max_pages", sa.Integer, nullable=True),
    sa.Column("admitted", sa.Integer, nullable=False),
    sa.Column("discovered", sa.Integer, nullable=False),
    sa.Column("fetched", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("skipped_robots", sa.Integer, nullable=False),
    sa.Column("skipped_scope", sa.Integer, nullable=False),
    sa.Column("skipped_content_type", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("stats", JSON, nullable=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

crawl_frontier = sa.Table(
    "crawl_frontier",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("job_id", "jobs.id"),
    sa.Column("url_hash", sa.String(32), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("parent_id", sa.BigInteger, nullable=True),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("retry_at", Timestamp, nullable=True),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("lease_expires_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint(
        "state IN ('queued', 'claimed', 'done', 'failed', 'skipped', 'dropped')", name="state"
    ),
    sa.UniqueConstraint("job_id", "url_hash", name="uq_crawl_frontier_job_id_url_hash"),
)
# Claims read this: the open URLs of one crawl, shallowest first.
sa.Index(
    "ix_crawl_frontier_open",
    crawl_frontier.c.job_id,
    crawl_frontier.c.depth,
    crawl_frontier.c.id,
    sqlite_where=sa.text("state IN ('queued', 'claimed')"),
    postgresql_where=sa.text("state IN ('queued', 'claimed')"),
)

crawl_pages = sa.Table(
    "crawl_pages",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("job_id", "jobs.id"),
    sa.Column("url_hash", sa.String(32), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("final_url", sa.Text, nullable=True),
    sa.Column("depth", sa.Integer, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status", sa.Integer, nullable=True),
    sa.Column("content_type", sa.String(255), nullable=True),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("elapsed", sa.Float, nullable=False),
    sa.Column("content_hash", sa.String(32), nullable=True),
    sa.Column("data", JSON, nullable=True),
    sa.Column("error", JSON, nullable=True),
    sa.Column("fetched_at", Timestamp, nullable=False),
    sa.UniqueConstraint("job_id", "url_hash", name="uq_crawl_pages_job_id_url_hash"),
    sa.Index("ix_crawl_pages_job_id_ok_id", "job_id", "ok", "id"),
    # Reading a crawl's records in order (exports, following a crawl, results without
    # an ok filter): without it, each page of records sorted all the crawl's records.
    sa.Index("ix_crawl_pages_job_id_id", "job_id", "id"),
)

# -- politeness shared by every process and host ---------------------------------------

hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("host", sa.String(300), primary_key=True),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("burst", sa.Integer, nullable=False),
    sa.Column("refilled_at", Timestamp, nullable=False),
    sa.Column("throttled", sa.BigInteger, nullable=False),
    sa.Column("circuit", JSON, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# The robots.txt rules in force per origin, as a worker last read them (the workers'
# own copies live in memory; this one is for people: the dashboard's Hosts page).
robots_files = sa.Table(
    "robots_files",
    metadata,
    sa.Column("origin", sa.String(300), primary_key=True),
    sa.Column("host", sa.String(300), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("sitemaps", JSON, nullable=False),
    sa.Column("fetched_at", Timestamp, nullable=False),
    sa.Index("ix_robots_files_host", "host"),
)

host_slots = sa.Table(
    "host_slots",
    metadata,
    sa.Column("host", sa.String(300), primary_key=True),
    sa.Column("holder", sa.String(200), primary_key=True),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
)

# -- schedules ------------------------------------------------------------------------

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("cron", sa.String(200), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("interval", sa.Float, nullable=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("queue", sa.String(100), nullable=True),
    sa.Column("priority", sa.Integer, nullable=True),
    sa.Column("max_attempts", sa.Integer, nullable=True),
    sa.Column("missed", sa.String(8), nullable=False),
    sa.Column("overlap", sa.String(8), nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("next_fire_at", Timestamp, nullable=True),
    sa.Column("last_fire_at", Timestamp, nullable=True),
    sa.Column("last_job_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("cron IS NOT NULL OR interval IS NOT NULL", name="when"),
    sa.CheckConstraint("missed IN ('skip', 'run_once')", name="missed"),
    sa.CheckConstraint("overlap IN ('skip', 'allow')", name="overlap"),
    sa.UniqueConstraint("name", name="uq_schedules_name"),
    sa.Index("ix_schedules_next_fire_at", "next_fire_at"),
)

schedule_fires = sa.Table(
    "schedule_fires",
    metadata,
    _owned_by("schedule_id", "schedules.id", primary_key=True),
    sa.Column("fire_at", Timestamp, primary_key=True),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.CheckConstraint("outcome IN ('enqueued', 'skipped', 'missed', 'failed')", name="outcome"),
    sa.Index(
        "ix_schedule_fires_job_id",
        "job_id",
        sqlite_where=sa.text("job_id IS NOT NULL"),
        postgresql_where=sa.text("job_id IS NOT NULL"),
    ),
)

# -- datasets -------------------------------------------------------------------------

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("key", JSON, nullable=False),
    sa.Column("schema", JSON, nullable=True),
    sa.Column("processors", JSON, nullable=False),
    sa.Column("types", JSON, nullable=False),
    sa.Column("region", sa.String(8), nullable=True),
    sa.Column("retention", sa.Float, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("name", name="uq_datasets_name"),
)

dataset_runs = sa.Table(
    "dataset_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("dataset_id", "datasets.id"),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("full", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("received", sa.BigInteger, nullable=False),
    sa.Column("new", sa.BigInteger, nullable=False),
    sa.Column("changed", sa.BigInteger, nullable=False),
    sa.Column("unchanged", sa.BigInteger, nullable=False),
    sa.Column("gone", sa.BigInteger, nullable=False),
    sa.Column("rejected", sa.BigInteger, nullable=False),
    sa.Column("duplicates", sa.BigInteger, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    sa.Index("ix_dataset_runs_dataset_id_id", "dataset_id", "id"),
    sa.Index("ix_dataset_runs_job_id", "job_id"),
)

# A run's records wait here until the run commits, then move to dataset_records in one
# transaction: readers never see half a run, and a failed run leaves nothing behind.
# Rows are only ever appended (no unique key to check per row: a run's duplicates are
# dropped when it commits), which keeps staging a million rows fast.
dataset_staging = sa.Table(
    "dataset_staging",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("run_id", "dataset_runs.id"),
    sa.Column("key_hash", sa.String(32), nullable=False),
    sa.Column("key", JSON, nullable=False),
    sa.Column("data", JSON, nullable=False),
    sa.Column("content_hash", sa.String(32), nullable=False),
    sa.Index("ix_dataset_staging_run_id_id", "run_id", "id"),
)

dataset_records = sa.Table(
    "dataset_records",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("dataset_id", "datasets.id"),
    sa.Column("key_hash", sa.String(32), nullable=False),
    sa.Column("key", JSON, nullable=False),
    sa.Column("data", JSON, nullable=False),
    sa.Column("content_hash", sa.String(32), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("import_id", sa.BigInteger, nullable=True),
    sa.Column("seen_run_id", sa.BigInteger, nullable=False),
    sa.Column("state_run_id", sa.BigInteger, nullable=False),
    sa.Column("first_seen_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.CheckConstraint("state IN ('new', 'changed', 'unchanged', 'gone')", name="state"),
    sa.UniqueConstraint("dataset_id", "key_hash", name="uq_dataset_records_dataset_id_key_hash"),
    sa.Index("ix_dataset_records_dataset_id_id", "dataset_id", "id"),
    sa.Index("ix_dataset_records_dataset_id_state_id", "dataset_id", "state", "id"),
    sa.Index("ix_dataset_records_dataset_id_last_seen_at", "dataset_id", "last_seen_at"),
)

dataset_rejects = sa.Table(
    "dataset_rejects",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("run_id", "dataset_runs.id"),
    sa.Column("line", sa.BigInteger, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("data", JSON, nullable=True),
    sa.Index("ix_dataset_rejects_run_id_id", "run_id", "id"),
)

# -- webhooks and notices (scrapeyard.notify) -------------------------------------------

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("events", JSON, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("scope_id", sa.BigInteger, nullable=True),
    sa.Column("description", sa.String(200), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.CheckConstraint("scope IN ('global', 'schedule', 'job')", name="scope"),
    sa.CheckConstraint("(scope = 'global') = (scope_id IS NULL)", name="scope_id"),
    sa.Index("ix_webhooks_scope_scope_id", "scope", "scope_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("webhook_id", "webhooks.id"),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("job_id", sa.BigInteger, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.CheckConstraint("status IN ('pending', 'retrying', 'succeeded', 'failed')", name="status"),
    sa.UniqueConstraint("message_id", name="uq_webhook_deliveries_message_id"),
    sa.Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    sa.Index("ix_webhook_deliveries_created_at", "created_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _owned_by("delivery_id", "webhook_deliveries.id"),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("latency", sa.Float, nullable=True),
    sa.Column("response", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),
)

# Every e-mail scrapeyard sends, and the key that keeps it from being sent twice: at most
# one notice per (kind, key, period), e.g. one rate-limit alert per host and hour.
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("period", sa.String(32), nullable=False),
    sa.Column("recipients", JSON, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("kind", "key", "period", name="uq_notices_kind_key_period"),
    sa.Index("ix_notices_created_at", "created_at"),
)
