"""records: the subject's kind on each record, for the public listing's count

Revision ID: 0024_records_subject_kind
Revises: 0023_listing_covering_index
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from xinyong.migrate import fill_column_in_batches, rebuild_index_concurrently

revision: str = "0024_records_subject_kind"
down_revision: str | Sequence[str] | None = "0023_listing_covering_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = sa.Enum("organisation", "individual_business", "person", name="subjectkind", native_enum=False, length=24)
COLUMNS = ["record_type", "decision_date"]
INCLUDED = ["id", "subject_id", "status", "publish_until", "tier", "department_id", "categories"]
SUBJECT_KIND = "(SELECT subjects.kind FROM subjects WHERE subjects.id = records.subject_id)"


def upgrade() -> None:
    # Every record takes its subject's kind. On PostgreSQL in batches, each committed, and the listing's index
    # rebuilt concurrently (minutes at 10⁷ records, while imports go on writing; an upgrade stopped part-way
    # starts again where it stopped). Imports of the version before this one write no kind: stop them first.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records ADD COLUMN IF NOT EXISTS subject_kind VARCHAR(24)")
        fill_column_in_batches("records", "subject_kind", SUBJECT_KIND)
        rebuild_index_concurrently("ix_records_type_decision", "records", COLUMNS, [*INCLUDED, "subject_kind"])
        return
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_kind", KIND, nullable=True))
    op.execute(f"UPDATE records SET subject_kind = {SUBJECT_KIND}")  # noqa: S608  (constant text)
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.alter_column("subject_kind", existing_type=KIND, nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        rebuild_index_concurrently("ix_records_type_decision", "records", COLUMNS, INCLUDED)
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("subject_kind")
