"""the department catalogue (部门目录清单) and the committed watermarks of database sources (库对接)

Revision ID: 0014_catalogue
Revises: 0013_monitoring
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0014_catalogue"
down_revision: str | Sequence[str] | None = "0013_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department_duties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_department_duties_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_duties")),
        sa.UniqueConstraint("department_id", "record_type", name=op.f("uq_department_duties_department_id_record_type")),
    )
    with op.batch_alter_table("department_duties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_duties_department_id"), ["department_id"], unique=False)

    op.create_table(
        "pull_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("watermark", sa.Text(), nullable=True),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("rows_pulled", sa.Integer(), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_states")),
        sa.UniqueConstraint("source", name=op.f("uq_pull_states_source")),
    )


def downgrade() -> None:
    op.drop_table("pull_states")
    with op.batch_alter_table("department_duties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_duties_department_id"))
    op.drop_table("department_duties")
