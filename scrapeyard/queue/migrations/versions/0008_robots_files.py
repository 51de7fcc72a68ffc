"""robots_files: the robots.txt rules in force per origin, as the workers last read them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.Float(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "robots_files",
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("sitemaps", JSON, nullable=False),
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("origin", name="pk_robots_files"),
    )
    op.create_index("ix_robots_files_host", "robots_files", ["host"])


def downgrade() -> None:
    op.drop_table("robots_files")
