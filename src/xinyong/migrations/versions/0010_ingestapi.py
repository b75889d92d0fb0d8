"""records: counts of the problems a batch did not store one by one; its report read by (row, id)

Revision ID: 0010_ingestapi
Revises: 0009
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010_ingestapi"
down_revision: str | Sequence[str] | None = "0010_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("omitted_problems", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True)
        )
    with op.batch_alter_table("batch_problems", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_problems_batch_id")
        batch_op.create_index("ix_batch_problems_batch_row", ["batch_id", "row", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batch_problems", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_problems_batch_row")
        batch_op.create_index("ix_batch_problems_batch_id", ["batch_id"], unique=False)
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("omitted_problems")
