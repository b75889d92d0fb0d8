"""subject accounts: contact confirmation apart from identity proof; activation codes; several claims per subject

Accounts that were "verified" before this revision had only confirmed an e-mail address. They keep that
(contact_confirmed) but are not identity-verified: until they prove the subject's identity they see only
public data and file nothing.

Revision ID: 0010_accounts
Revises: 0009
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0010_accounts"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER = "identity_verified_at IS NOT NULL AND status = 'active'"


def upgrade() -> None:
    with op.batch_alter_table("subject_accounts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_subject_accounts_subject_id", type_="unique")
        batch_op.alter_column("is_verified", new_column_name="contact_confirmed", existing_type=sa.Boolean(),
                              existing_nullable=False)  # fmt: skip
        batch_op.alter_column("verified_at", new_column_name="contact_confirmed_at",
                              existing_type=sa.DateTime(timezone=True), existing_nullable=True)  # fmt: skip
        batch_op.add_column(sa.Column("status", sa.Enum("active", "suspended", "revoked", name="accountstatus",
                                                        native_enum=False, length=20),
                                      server_default="active", nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("status_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", xinyong.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("identity_method", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("identity_verified_at", xinyong.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("identity_failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("identity_locked_until", xinyong.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_subject_accounts_subject_id"), ["subject_id"], unique=False)
    op.create_index("uq_subject_accounts_owner", "subject_accounts", ["subject_id"], unique=True,
                    sqlite_where=sa.text(OWNER), postgresql_where=sa.text(OWNER))  # fmt: skip

    op.create_table(
        "subject_activation_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"],
                                name=op.f("fk_subject_activation_codes_subject_id_subjects")),
        sa.ForeignKeyConstraint(["used_by_account_id"], ["subject_accounts.id"],
                                name=op.f("fk_subject_activation_codes_used_by_account_id_subject_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_activation_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_subject_activation_codes_code_hash")),
    )
    with op.batch_alter_table("subject_activation_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_activation_codes_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subject_activation_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_activation_codes_subject_id"))
    op.drop_table("subject_activation_codes")
    op.drop_index("uq_subject_accounts_owner", table_name="subject_accounts")
    with op.batch_alter_table("subject_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_accounts_subject_id"))
        for name in ("identity_locked_until", "identity_failures", "identity_verified_at", "identity_method",
                     "status_changed_at", "status_reason", "status"):  # fmt: skip
            batch_op.drop_column(name)
        batch_op.alter_column("contact_confirmed_at", new_column_name="verified_at",
                              existing_type=sa.DateTime(timezone=True), existing_nullable=True)  # fmt: skip
        batch_op.alter_column("contact_confirmed", new_column_name="is_verified", existing_type=sa.Boolean(),
                              existing_nullable=False)  # fmt: skip
        batch_op.create_unique_constraint("uq_subject_accounts_subject_id", ["subject_id"])
