"""records: the listing's index carries the publication clause's columns on PostgreSQL

Revision ID: 0023_listing_covering_index
Revises: 0022_ingest_name_index
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from xinyong.migrate import rebuild_index_concurrently

revision: str = "0023_listing_covering_index"
down_revision: str | Sequence[str] | None = "0022_ingest_name_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["record_type", "decision_date"]
INCLUDED = ["id", "subject_id", "status", "publish_until", "tier", "department_id", "categories"]


def upgrade() -> None:
    # SQLite has no INCLUDE: its index stays as it is. On PostgreSQL the index is rebuilt wider, concurrently (a
    # few seconds per million records, while imports go on writing).
    if op.get_bind().dialect.name == "postgresql":
        rebuild_index_concurrently("ix_records_type_decision", "records", COLUMNS, INCLUDED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        rebuild_index_concurrently("ix_records_type_decision", "records", COLUMNS, [])
