"""exchange: the change log in commit order (backfilled with every existing record), export destinations,
webhooks

Revision ID: 0014_exchange
Revises: 0013_monitoring
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import xinyong.db

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0014_exchange"
down_revision: str | Sequence[str] | None = "0013_monitoring"
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
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("not_before", xinyong.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("parked_at", xinyong.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parked_at")
        batch.drop_column("not_before")
    op.drop_index(op.f("ix_exchange_webhooks_api_key_id"), table_name="exchange_webhooks")
    op.drop_table("exchange_webhooks")
    op.drop_table("exchange_destinations")
    op.drop_table("change_sequence")
    op.drop_index(op.f("ix_changes_record_id"), table_name="changes")
    op.drop_index(op.f("ix_changes_txn"), table_name="changes")
    op.drop_index("ix_changes_type_seq_id", table_name="changes")
    op.drop_index("ix_changes_seq_id", table_name="changes")
    op.drop_table("changes")
