"""commitments: subjects' online commitments and the verification tasks of 告知承诺

Revision ID: 0015_commitments
Revises: 0014_catalogue
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0015_commitments"
down_revision: str | Sequence[str] | None = "0014_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "online_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("liability", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("agreed_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_online_commitments_record_id_records")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_online_commitments_subject_id_subjects")),
        sa.ForeignKeyConstraint(["account_id"], ["subject_accounts.id"],
                                name=op.f("fk_online_commitments_account_id_subject_accounts")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_online_commitments_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_commitments")),
        sa.UniqueConstraint("record_id", name=op.f("uq_online_commitments_record_id")),
        sa.UniqueConstraint("code", name=op.f("uq_online_commitments_code")),
    )  # fmt: skip
    with op.batch_alter_table("online_commitments") as batch:
        batch.create_index(batch.f("ix_online_commitments_subject_id"), ["subject_id"])
        batch.create_index(batch.f("ix_online_commitments_account_id"), ["account_id"])
        batch.create_index(batch.f("ix_online_commitments_department_id"), ["department_id"])
    op.create_table(
        "commitment_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("matter", sa.String(length=500), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Enum("open", "confirmed", "untrue", name="taskstatus", native_enum=False, length=16),
                  nullable=False),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("actions", sa.String(length=500), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name=op.f("fk_commitment_verifications_record_id_records")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_commitment_verifications_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_verifications")),
        sa.UniqueConstraint("record_id", name=op.f("uq_commitment_verifications_record_id")),
    )  # fmt: skip
    with op.batch_alter_table("commitment_verifications") as batch:
        batch.create_index("ix_commitment_verifications_department_status", ["department_id", "status"])


def downgrade() -> None:
    op.drop_table("commitment_verifications")
    op.drop_table("online_commitments")
