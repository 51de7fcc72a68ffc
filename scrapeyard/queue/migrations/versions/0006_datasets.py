"""Datasets: named record collections that accumulate across runs, their runs,
staged records, and rejects.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key", JSON, nullable=False),
        sa.Column("schema", JSON, nullable=True),
        sa.Column("processors", JSON, nullable=False),
        sa.Column("types", JSON, nullable=False),
        sa.Column("region", sa.String(8), nullable=True),
        sa.Column("retention", sa.Float, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", ID, nullable=False),
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
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name="ck_dataset_runs_status"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_runs_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_runs"),
    )
    op.create_index("ix_dataset_runs_dataset_id_id", "dataset_runs", ["dataset_id", "id"])
    op.create_index("ix_dataset_runs_job_id", "dataset_runs", ["job_id"])
    op.create_table(
        "dataset_staging",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("key", JSON, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dataset_runs.id"],
            name="fk_dataset_staging_run_id_dataset_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_staging"),
    )
    op.create_index("ix_dataset_staging_run_id_id", "dataset_staging", ["run_id", "id"])
    op.create_table(
        "dataset_records",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("key_hash", sa.String(32), nullable=False),
        sa.Column("key", JSON, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("content_hash", sa.String(32), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("import_id", sa.BigInteger, nullable=True),
        sa.Column("seen_run_id", sa.BigInteger, nullable=False),
        sa.Column("state_run_id", sa.BigInteger, nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('new', 'changed', 'unchanged', 'gone')", name="ck_dataset_records_state"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_records_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_records"),
        sa.UniqueConstraint(
            "dataset_id", "key_hash", name="uq_dataset_records_dataset_id_key_hash"
        ),
    )
    op.create_index("ix_dataset_records_dataset_id_id", "dataset_records", ["dataset_id", "id"])
    op.create_index(
        "ix_dataset_records_dataset_id_state_id", "dataset_records", ["dataset_id", "state", "id"]
    )
    op.create_index(
        "ix_dataset_records_dataset_id_last_seen_at",
        "dataset_records",
        ["dataset_id", "last_seen_at"],
    )
    op.create_table(
        "dataset_rejects",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("line", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("data", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["dataset_runs.id"],
            name="fk_dataset_rejects_run_id_dataset_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_rejects"),
    )
    op.create_index("ix_dataset_rejects_run_id_id", "dataset_rejects", ["run_id", "id"])


def downgrade() -> None:
    op.drop_table("dataset_rejects")
    op.drop_table("dataset_records")
    op.drop_table("dataset_staging")
    op.drop_table("dataset_runs")
    op.drop_table("datasets")
