"""credit repair, objections, subject accounts, outbox

Revision ID: 0005
Revises: 0003

Tables of my own only; the records, subjects and disclosure tables are not touched. Disclosure consults
publication_stops to end publication of repaired records.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=130), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_files")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_evidence_files_stored_name")),
    )
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_files_owner"), ["owner"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", xinyong.db.JSONType, nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_delivered_at"), ["delivered_at"], unique=False)

    op.create_table(
        "subject_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_accounts_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_accounts")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_subject_accounts_subject_id")),
    )
    op.create_table(
        "subject_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subject_accounts.id"],
            name=op.f("fk_subject_sessions_account_id_subject_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subject_sessions_token_hash")),
    )
    with op.batch_alter_table("subject_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_sessions_account_id"), ["account_id"], unique=False)

    op.create_table(
        "subject_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subject_accounts.id"],
            name=op.f("fk_subject_verifications_account_id_subject_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_verifications")),
    )
    with op.batch_alter_table("subject_verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_verifications_account_id"), ["account_id"], unique=False)

    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("open_record_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "corrected",
                "revoked",
                "upheld",
                "withdrawn",
                name="objectionstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("ground", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["subject_accounts.id"], name=op.f("fk_objections_account_id_subject_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_objections_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_objections_record_id_records")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_objections_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
        sa.UniqueConstraint("number", name=op.f("uq_objections_number")),
        sa.UniqueConstraint("open_record_id", name=op.f("uq_objections_open_record_id")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "repair_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("open_record_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "returned",
                "accepted",
                "approved",
                "refused",
                "withdrawn",
                "restored",
                name="repairstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("contact_name", sa.String(length=50), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("platform_due", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("department_due", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("missing_materials", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["subject_accounts.id"],
            name=op.f("fk_repair_applications_account_id_subject_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_repair_applications_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_repair_applications_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_repair_applications_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_repair_applications_number")),
        sa.UniqueConstraint("open_record_id", name=op.f("uq_repair_applications_open_record_id")),
    )
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_applications_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_repair_applications_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repair_applications_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_repair_applications_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "publication_stops",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("stopped_on", sa.Date(), nullable=False),
        sa.Column("lifted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["repair_applications.id"],
            name=op.f("fk_publication_stops_application_id_repair_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_publication_stops_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_publication_stops")),
    )
    op.create_table(
        "repair_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=50), nullable=False),
        sa.Column("signed_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("breached_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("breach_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["repair_applications.id"],
            name=op.f("fk_repair_commitments_application_id_repair_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_repair_commitments_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_commitments")),
    )
    with op.batch_alter_table("repair_commitments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_commitments_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_repair_commitments_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "repair_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["repair_applications.id"],
            name=op.f("fk_repair_events_application_id_repair_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_events")),
    )
    with op.batch_alter_table("repair_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repair_events_application_id"), ["application_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("repair_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_events_application_id"))

    op.drop_table("repair_events")
    with op.batch_alter_table("repair_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_commitments_subject_id"))
        batch_op.drop_index(batch_op.f("ix_repair_commitments_application_id"))

    op.drop_table("repair_commitments")
    op.drop_table("publication_stops")
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_applications_subject_id"))
        batch_op.drop_index(batch_op.f("ix_repair_applications_status"))
        batch_op.drop_index(batch_op.f("ix_repair_applications_record_id"))
        batch_op.drop_index(batch_op.f("ix_repair_applications_department_id"))

    op.drop_table("repair_applications")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_subject_id"))
        batch_op.drop_index(batch_op.f("ix_objections_status"))
        batch_op.drop_index(batch_op.f("ix_objections_record_id"))
        batch_op.drop_index(batch_op.f("ix_objections_department_id"))

    op.drop_table("objections")
    with op.batch_alter_table("subject_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_verifications_account_id"))

    op.drop_table("subject_verifications")
    with op.batch_alter_table("subject_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_sessions_account_id"))

    op.drop_table("subject_sessions")
    op.drop_table("subject_accounts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_delivered_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_files_owner"))

    op.drop_table("evidence_files")
