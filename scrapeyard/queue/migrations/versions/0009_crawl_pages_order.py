"""crawl_pages(job_id, id): a crawl's records in the order they were stored.

Exports, ``scrapeyard crawl -o`` and unfiltered result pages read ``WHERE job_id = ?
AND id > ? ORDER BY id LIMIT n``; with only (job_id, ok, id) each such page sorted every
record of the crawl, which made a long export quadratic.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_crawl_pages_job_id_id", "crawl_pages", ["job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_crawl_pages_job_id_id", table_name="crawl_pages")
