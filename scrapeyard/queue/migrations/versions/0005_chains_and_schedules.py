"""Job dependencies and chains (a new status, waiting), and schedules.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_STATUSES = "'scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'"
NEW_STATUSES = "'waiting', " + OLD_STATUSES
OLD_UNFINISHED = "unique_key IS NOT NULL AND status IN ('scheduled', 'queued', 'running')"
NEW_UNFINISHED = (
    "unique_key IS NOT NULL AND status IN ('waiting', 'scheduled', 'queued', 'running')"
)


def _statuses(statuses: str, unfinished: str) -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_status", type_="check")
        batch.create_check_constraint("ck_jobs_status", sa.text(f"status IN ({statuses})"))
    op.drop_index("uq_jobs_unique_key", table_name="jobs")
    op.create_index(
        "uq_jobs_unique_key",
        "jobs",
        ["unique_key"],
        unique=True,
        sqlite_where=sa.text(unfinished),
        postgresql_where=sa.text(unfinished),
    )


def upgrade() -> None:
    _statuses(NEW_STATUSES, NEW_UNFINISHED)
    op.add_column("jobs", sa.Column("chain_id", sa.BigInteger, nullable=True))
    op.create_index(
        "ix_jobs_chain_id",
        "jobs",
        ["chain_id"],
        sqlite_where=sa.text("chain_id IS NOT NULL"),
        postgresql_where=sa.text("chain_id IS NOT NULL"),
    )
    op.create_table(
        "job_dependencies",
        sa.Column("job_id", ID, nullable=False),
        sa.Column("depends_on", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_job_dependencies_job_id_jobs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["depends_on"],
            ["jobs.id"],
            name="fk_job_dependencies_depends_on_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "depends_on", name="pk_job_dependencies"),
    )
    op.create_index("ix_job_dependencies_depends_on", "job_dependencies", ["depends_on"])
    op.create_table(
        "schedules",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
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
        sa.Column("next_fire_at", TIMESTAMP, nullable=True),
        sa.Column("last_fire_at", TIMESTAMP, nullable=True),
        sa.Column("last_job_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("cron IS NOT NULL OR interval IS NOT NULL", name="ck_schedules_when"),
        sa.CheckConstraint("missed IN ('skip', 'run_once')", name="ck_schedules_missed"),
        sa.CheckConstraint("overlap IN ('skip', 'allow')", name="ck_schedules_overlap"),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        sa.UniqueConstraint("name", name="uq_schedules_name"),
    )
    op.create_index("ix_schedules_next_fire_at", "schedules", ["next_fire_at"])
    op.create_table(
        "schedule_fires",
        sa.Column("schedule_id", ID, nullable=False),
        sa.Column("fire_at", TIMESTAMP, nullable=False),
        sa.Column("job_id", sa.BigInteger, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('enqueued', 'skipped', 'missed', 'failed')",
            name="ck_schedule_fires_outcome",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name="fk_schedule_fires_schedule_id_schedules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "fire_at", name="pk_schedule_fires"),
    )
    op.create_index(
        "ix_schedule_fires_job_id",
        "schedule_fires",
        ["job_id"],
        sqlite_where=sa.text("job_id IS NOT NULL"),
        postgresql_where=sa.text("job_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("schedule_fires")
    op.drop_table("schedules")
    op.drop_table("job_dependencies")
    op.drop_index("ix_jobs_chain_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chain_id")
    op.execute("DELETE FROM jobs WHERE status = 'waiting'")
    _statuses(OLD_STATUSES, OLD_UNFINISHED)
