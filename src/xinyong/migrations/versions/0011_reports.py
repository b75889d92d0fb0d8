"""credit reports: the registry of issued reports (numbers and digests, never content)

Revision ID: 0011_reports
Revises: 0010_auditlogin
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import xinyong.db

revision: str = "0011_reports"
down_revision: str | Sequence[str] | None = "0010_auditlogin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issued_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.Enum("public", "own", "special", name="reportkind", native_enum=False, length=16),
                  nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=True),
        sa.Column("span_from", sa.Date(), nullable=True),
        sa.Column("span_to", sa.Date(), nullable=True),
        sa.Column("domains", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("generated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("check_number", sa.String(length=24), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_issued_reports_department_id_departments")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_issued_reports_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_issued_reports_number")),
    )
    with op.batch_alter_table("issued_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_reports_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index("ix_issued_reports_department_generated", ["department_id", "generated_at"],
                              unique=False)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("issued_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_issued_reports_department_generated")
        batch_op.drop_index(batch_op.f("ix_issued_reports_subject_id"))
    op.drop_table("issued_reports")
