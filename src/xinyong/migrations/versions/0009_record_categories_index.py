"""records: categories copied out of the payload, and an index that covers the publication clause

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The built-in catalogue's categories field per record type when this revision was written (migrations do not
# import application code). Record types an operator added are filled by `xinyong disclosure reindex`.
CATEGORIES_FIELDS = {"penalty": "CF_CFLB"}
CATEGORIES_LENGTH = 200

records = sa.table(
    "records",
    sa.column("record_type", sa.String()),
    sa.column("payload", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("categories", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("categories", sa.String(length=CATEGORIES_LENGTH), nullable=True))
    for record_type, code in CATEGORIES_FIELDS.items():
        op.execute(
            records.update()
            .where(records.c.record_type == record_type)
            .values(categories=sa.func.substr(records.c.payload[code].as_string(), 1, CATEGORIES_LENGTH))
        )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_type")
        batch_op.create_index(
            "ix_records_subject_published",
            ["subject_id", "record_type", "decision_date", "status", "publish_until", "tier", "department_id",
             "categories"],
            unique=False,
            postgresql_include=["id"],
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_subject_published", postgresql_include=["id"])
        batch_op.create_index("ix_records_subject_type", ["subject_id", "record_type"], unique=False)
        batch_op.drop_column("categories")
