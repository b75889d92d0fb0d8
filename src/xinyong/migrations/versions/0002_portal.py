"""portal: subject name bigram index, disclosure withdrawals

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_grams",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gram", "subject_id", name=op.f("pk_subject_grams")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "disclosure_withdrawals",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("swept_on", sa.Date(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_disclosure_withdrawals_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_disclosure_withdrawals")),
    )
    with op.batch_alter_table("disclosure_withdrawals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_withdrawals_swept_on"), ["swept_on"], unique=False)
    # Subjects created before this revision enter the name index (persons never do).
    op.execute(
        "INSERT INTO subject_grams (gram, subject_id) "  # noqa: S608 -- built from integer constants only
        "SELECT DISTINCT substr(name_norm, n.i, 2), s.id FROM subjects s "
        "JOIN (SELECT 1 AS i" + "".join(f" UNION ALL SELECT {i}" for i in range(2, 200)) + ") n "
        "ON n.i < length(s.name_norm) WHERE s.kind <> 'person'"
    )


def downgrade() -> None:
    with op.batch_alter_table("disclosure_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_withdrawals_swept_on"))
    op.drop_table("disclosure_withdrawals")
    op.drop_table("subject_grams")
