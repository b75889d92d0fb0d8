"""monitoring: warnings and inbox, 重错码 findings, subject name changes and merges, 政务诚信, users' e-mail

Revision ID: 0013_monitoring
Revises: 0012_evaluation
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import xinyong.db

JSON = sa.JSON().with_variant(JSONB(), "postgresql")

revision: str = "0013_monitoring"
down_revision: str | Sequence[str] | None = "0012_evaluation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "civil_servant_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_name", sa.String(length=50), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("id_sealed", sa.String(length=200), nullable=False),
        sa.Column("id_masked", sa.String(length=18), nullable=False),
        sa.Column("employer", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source_document", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_civil_servant_records")),
    )
    with op.batch_alter_table("civil_servant_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_civil_servant_records_id_hash"), ["id_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_civil_servant_records_person_name"), ["person_name"], unique=False
        )

    op.create_table(
        "quality_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "code-many-names",
                "name-many-codes",
                "legacy-mismatch",
                "bad-check-digit",
                name="issuekind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "asked",
                "merged",
                "distinct",
                "gone",
                name="issuestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("subject_ids", JSON, nullable=False),
        sa.Column("department_ids", JSON, nullable=False),
        sa.Column("affected", sa.Integer(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("detected_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_issues")),
        sa.UniqueConstraint("key", name=op.f("uq_quality_issues_key")),
    )
    with op.batch_alter_table("quality_issues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_issues_status"), ["status"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "acknowledged", "resolved", name="alertstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_alerts_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("rule", "key", name=op.f("uq_alerts_rule_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_department_status", ["department_id", "status"], unique=False)

    op.create_table(
        "prelisting_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("court", sa.String(length=100), nullable=False),
        sa.Column("case_no", sa.String(length=128), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("listing_expected_on", sa.Date(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("obligation", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "averted", "listed", name="noticestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_prelisting_notices_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["departments.id"],
            name=op.f("fk_prelisting_notices_supervisor_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prelisting_notices")),
    )
    with op.batch_alter_table("prelisting_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prelisting_notices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_prelisting_notices_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "subject_name_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_norm", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_name_changes_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_name_changes")),
        sa.UniqueConstraint(
            "subject_id", "name_norm", name=op.f("uq_subject_name_changes_subject_id_name_norm")
        ),
    )
    with op.batch_alter_table("subject_name_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_name_changes_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("ref", sa.String(length=60), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inbox_items_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_inbox_items_outbox_id")),
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_items_ref"), ["ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_items_user_id"), ["user_id"], unique=False)

    op.create_table(
        "integrity_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("list_entry_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("amount_yuan", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("clear_by", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "cleared", name="casestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("cleared_on", sa.Date(), nullable=True),
        sa.Column("clearing_note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_entry_id"], ["list_entries.id"], name=op.f("fk_integrity_cases_list_entry_id_list_entries")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_integrity_cases_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["departments.id"], name=op.f("fk_integrity_cases_supervisor_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_cases")),
        sa.UniqueConstraint("list_entry_id", name=op.f("uq_integrity_cases_list_entry_id")),
    )
    with op.batch_alter_table("integrity_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrity_cases_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_integrity_cases_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_integrity_cases_supervisor_id"), ["supervisor_id"], unique=False)

    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_subjects_merged_into_id_subjects"), "subjects", ["merged_into_id"], ["id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email")

    with op.batch_alter_table("subjects", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_subjects_merged_into_id_subjects"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("integrity_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_cases_supervisor_id"))
        batch_op.drop_index(batch_op.f("ix_integrity_cases_subject_id"))
        batch_op.drop_index(batch_op.f("ix_integrity_cases_status"))

    op.drop_table("integrity_cases")
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_items_user_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_items_ref"))

    op.drop_table("inbox_items")
    with op.batch_alter_table("subject_name_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_name_changes_subject_id"))

    op.drop_table("subject_name_changes")
    with op.batch_alter_table("prelisting_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prelisting_notices_subject_id"))
        batch_op.drop_index(batch_op.f("ix_prelisting_notices_status"))

    op.drop_table("prelisting_notices")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_department_status")

    op.drop_table("alerts")
    with op.batch_alter_table("quality_issues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_issues_status"))

    op.drop_table("quality_issues")
    with op.batch_alter_table("civil_servant_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_civil_servant_records_person_name"))
        batch_op.drop_index(batch_op.f("ix_civil_servant_records_id_hash"))

    op.drop_table("civil_servant_records")
