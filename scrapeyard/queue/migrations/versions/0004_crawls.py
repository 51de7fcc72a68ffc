"""Crawls: per-crawl counters, the persistent frontier, page records, host politeness.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "state IN ('queued', 'claimed')"


def upgrade() -> None:
    op.create_table(
        "crawls",
        sa.Column("job_id", ID, nullable=False),
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
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_crawls_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name="pk_crawls"),
    )
    op.create_table(
        "crawl_frontier",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("job_id", ID, nullable=False),
        sa.Column("url_hash", sa.String(32), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("retry_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'claimed', 'done', 'failed', 'skipped', 'dropped')",
            name="ck_crawl_frontier_state",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_crawl_frontier_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_frontier"),
        sa.UniqueConstraint("job_id", "url_hash", name="uq_crawl_frontier_job_id_url_hash"),
    )
    op.create_index(
        "ix_crawl_frontier_open",
        "crawl_frontier",
        ["job_id", "depth", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_table(
        "crawl_pages",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("job_id", ID, nullable=False),
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
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_crawl_pages_job_id_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_pages"),
        sa.UniqueConstraint("job_id", "url_hash", name="uq_crawl_pages_job_id_url_hash"),
    )
    op.create_index("ix_crawl_pages_job_id_ok_id", "crawl_pages", ["job_id", "ok", "id"])
    op.create_table(
        "hosts",
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("burst", sa.Integer, nullable=False),
        sa.Column("refilled_at", TIMESTAMP, nullable=False),
        sa.Column("throttled", sa.BigInteger, nullable=False),
        sa.Column("circuit", JSON, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_hosts"),
    )
    op.create_table(
        "host_slots",
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("slots", sa.Integer, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("host", "holder", name="pk_host_slots"),
    )


def downgrade() -> None:
    op.drop_table("host_slots")
    op.drop_table("hosts")
    op.drop_table("crawl_pages")
    op.drop_index("ix_crawl_frontier_open", table_name="crawl_frontier")
    op.drop_table("crawl_frontier")
    op.drop_table("crawls")
