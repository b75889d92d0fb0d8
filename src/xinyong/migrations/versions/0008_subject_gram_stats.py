"""portal: per-gram subject counts of common grams, for choosing which grams a name search intersects

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# search.PROBE_CAP when this revision was written; migrations do not import application code.
COMMON_GRAM_SUBJECTS = 2000


def upgrade() -> None:
    op.create_table(
        "subject_gram_stats",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", name=op.f("pk_subject_gram_stats")),
        sqlite_with_rowid=False,
    )
    # The index already holds subjects: count its common grams now rather than wait for the next rebuild.
    op.execute(
        "INSERT INTO subject_gram_stats (gram, subjects) "  # noqa: S608 -- built from an integer constant only
        f"SELECT gram, count(*) FROM subject_grams GROUP BY gram HAVING count(*) >= {COMMON_GRAM_SUBJECTS}"
    )


def downgrade() -> None:
    op.drop_table("subject_gram_stats")
