"""exchange: the change log in commit order (backfilled with every existing record), export destinations,
webhooks

Revision ID: 0016_exchange
Revises: 0015_commitments
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import xinyong.db

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0016_exchange"
down_revision: str | Sequence[str] | None = "0015_commitments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("txn", sa.String(length=32), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_seq_id", "changes", ["seq", "id"])
    op.create_index("ix_changes_type_seq_id", "changes", ["record_type", "seq", "id"])
    op.create_index(op.f("ix_changes_txn"), "changes", ["txn"])
    op.create_index(op.f("ix_changes_record_id"), "changes", ["record_id"])
    op.create_table(
        "change_sequence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_sequence")),
    )
    # Every record that exists already is logged as created, at sequence number 0, in id order.
    op.execute("INSERT INTO change_sequence (id, value) VALUES (1, 0)")
    op.execute(
        "INSERT INTO changes (seq, record_id, record_type, kind, created_at) "
        "SELECT 0, id, record_type, 'created', updated_at FROM records ORDER BY id"
    )
    op.create_table(
        "exchange_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), nullable=False),
        sa.Column("exports", sa.Integer(), nullable=False),
        sa.Column("exported_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_destinations")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_destinations_name")),
    )
    op.create_table(
        "exchange_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("types", JSON, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("parked_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_exchange_webhooks_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_webhooks")),
    )
    op.create_index(op.f("ix_exchange_webhooks_api_key_id"), "exchange_webhooks", ["api_key_id"])
    op.create_table(
        "exchange_list_editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_type_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("edition_on", sa.Date(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("ended", sa.Integer(), nullable=False),
        sa.Column("in_review", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_exchange_list_editions_department_id_departments")),
        sa.ForeignKeyConstraint(["import_id"], ["list_imports.id"],
                                name=op.f("fk_exchange_list_editions_import_id_list_imports")),
        sa.ForeignKeyConstraint(["list_type_id"], ["list_types.id"],
                                name=op.f("fk_exchange_list_editions_list_type_id_list_types")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_list_editions")),
    )
    op.create_index(op.f("ix_exchange_list_editions_list_type_id"), "exchange_list_editions", ["list_type_id"])
    op.create_table(
        "exchange_list_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("doc_no", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("candidates", JSON, nullable=True),
        sa.Column("values", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["edition_id"], ["exchange_list_editions.id"],
                                name=op.f("fk_exchange_list_reviews_edition_id_exchange_list_editions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_list_reviews")),
    )
    op.create_index(op.f("ix_exchange_list_reviews_edition_id"), "exchange_list_reviews", ["edition_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("not_before", xinyong.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("parked_at", xinyong.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parked_at")
        batch.drop_column("not_before")
    op.drop_index(op.f("ix_exchange_list_reviews_edition_id"), table_name="exchange_list_reviews")
    op.drop_table("exchange_list_reviews")
    op.drop_index(op.f("ix_exchange_list_editions_list_type_id"), table_name="exchange_list_editions")
    op.drop_table("exchange_list_editions")
    op.drop_index(op.f("ix_exchange_webhooks_api_key_id"), table_name="exchange_webhooks")
    op.drop_table("exchange_webhooks")
    op.drop_table("exchange_destinations")
    op.drop_table("change_sequence")
    op.drop_index(op.f("ix_changes_record_id"), table_name="changes")
    op.drop_index(op.f("ix_changes_txn"), table_name="changes")
    op.drop_index("ix_changes_type_seq_id", table_name="changes")
    op.drop_index("ix_changes_seq_id", table_name="changes")
    op.drop_table("changes")
