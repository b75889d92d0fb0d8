"""credit lists (types, entries, events, imports), the measure list, credit checks and their feedback

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("credit_check_feedback", "credit_checks", "measures", "list_import_problems", "list_events", "list_entries",
          "list_imports", "list_types")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "list_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "nature",
            sa.Enum("honor", "dishonesty", "watch", name="listnature", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "origin",
            sa.Enum("local", "imported", name="listorigin", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("deciding_departments", sa.JSON(), nullable=False),
        sa.Column("entry_criteria", sa.Text(), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("exit_conditions", sa.Text(), nullable=False),
        sa.Column("remedy_route", sa.Text(), nullable=False),
        sa.Column("objection_workdays", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_types")),
        sa.UniqueConstraint("key", name=op.f("uq_list_types_key")),
    )
    op.create_table(
        "list_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_type_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_list_imports_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["list_type_id"], ["list_types.id"], name=op.f("fk_list_imports_list_type_id_list_types")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_imports")),
    )
    op.create_index(op.f("ix_list_imports_list_type_id"), "list_imports", ["list_type_id"], unique=False)
    op.create_table(
        "list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_type_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column(
            "origin",
            sa.Enum("local", "imported", name="listorigin", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "proposed",
                "notified",
                "objected",
                "decided",
                "published",
                "expired",
                "removed",
                "withdrawn",
                name="entrystate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("rights", sa.Text(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("objection_deadline", sa.Date(), nullable=True),
        sa.Column("objection", sa.Text(), nullable=True),
        sa.Column("objected_on", sa.Date(), nullable=True),
        sa.Column("objection_answer", sa.Text(), nullable=True),
        sa.Column("decision_no", sa.String(length=128), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("publish_deadline", sa.Date(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("is_published_late", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("source_ref", sa.String(length=128), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_list_entries_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["list_imports.id"], name=op.f("fk_list_entries_import_id_list_imports")
        ),
        sa.ForeignKeyConstraint(
            ["list_type_id"], ["list_types.id"], name=op.f("fk_list_entries_list_type_id_list_types")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
        sa.UniqueConstraint(
            "list_type_id", "source_ref", name=op.f("uq_list_entries_list_type_id_source_ref")
        ),
    )
    op.create_index(op.f("ix_list_entries_department_id"), "list_entries", ["department_id"], unique=False)
    op.create_index("ix_list_entries_subject_state", "list_entries", ["subject_id", "state"], unique=False)
    op.create_index(
        "ix_list_entries_type_state", "list_entries", ["list_type_id", "state", "valid_until"], unique=False
    )
    op.create_table(
        "list_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["list_entries.id"],
            name=op.f("fk_list_events_entry_id_list_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_events")),
    )
    op.create_index(op.f("ix_list_events_entry_id"), "list_events", ["entry_id"], unique=False)
    op.create_table(
        "list_import_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["list_imports.id"],
            name=op.f("fk_list_import_problems_import_id_list_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_import_problems")),
    )
    op.create_index(
        op.f("ix_list_import_problems_import_id"), "list_import_problems", ["import_id"], unique=False
    )
    op.create_table(
        "measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("current", "superseded", "retired", name="measurestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("matter", sa.String(length=40), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("list_types", sa.JSON(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("incentive", "sanction", name="measurekind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "effect",
            sa.Enum("block", "warn", "fast_track", name="measureeffect", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("frequency", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_measures_code_version")),
    )
    op.create_index("ix_measures_matter_status", "measures", ["matter", "status"], unique=False)
    op.create_table(
        "credit_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("batch_no", sa.String(length=24), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("matter", sa.String(length=40), nullable=False),
        sa.Column("query_kind", sa.String(length=8), nullable=False),
        sa.Column("query_text", sa.String(length=200), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=True),
        sa.Column("is_hit", sa.Boolean(), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_credit_checks_department_id_departments")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_credit_checks_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_checks")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_checks_number")),
    )
    op.create_index(op.f("ix_credit_checks_batch_no"), "credit_checks", ["batch_no"], unique=False)
    op.create_index(
        "ix_credit_checks_department_created", "credit_checks", ["department_id", "created_at"], unique=False
    )
    op.create_index("ix_credit_checks_subject_id", "credit_checks", ["subject_id"], unique=False)
    op.create_table(
        "credit_check_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("is_applied", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["credit_checks.id"],
            name=op.f("fk_credit_check_feedback_check_id_credit_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_credit_check_feedback_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"], ["measures.id"], name=op.f("fk_credit_check_feedback_measure_id_measures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_check_feedback")),
    )
    op.create_index(
        op.f("ix_credit_check_feedback_check_id"), "credit_check_feedback", ["check_id"], unique=False
    )


def downgrade() -> None:
    for table in TABLES:  # dependants first; their indexes go with them
        op.drop_table(table)
