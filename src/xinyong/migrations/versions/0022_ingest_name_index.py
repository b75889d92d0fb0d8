"""ingestion: subjects waiting for the name index

Revision ID: 0022_ingest_name_index
Revises: 0021_changelog_horizon
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_ingest_name_index"
down_revision: str | Sequence[str] | None = "0021_changelog_horizon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_index_pending",
        sa.Column("subject_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_index_pending")),
    )


def downgrade() -> None:
    # Subjects still waiting lose their place in the queue: `xinyong disclosure reindex` indexes every name.
    op.drop_table("subject_index_pending")
