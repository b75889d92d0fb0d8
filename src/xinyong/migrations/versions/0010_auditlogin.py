"""audit entries name the key that signed them; sign-in throttling state shared by all server processes

Existing audit entries keep their unkeyed SHA-256 links (key_id NULL) and still verify; the next entry starts
the keyed segment (the platform publishes a checkpoint of it), and no unkeyed entry may follow a keyed one.
Columns are added without rebuilding audit_entries, so its append-only triggers stay in place.

Revision ID: 0010_auditlogin
Revises: 0010_dueprocess
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0010_auditlogin"
down_revision: str | Sequence[str] | None = "0010_dueprocess"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_chain_head", sa.Column("last_key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=48), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("audited_until", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("key", name=op.f("uq_login_throttles_key")),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_throttles_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    # Keyed entries cannot be expressed in the unkeyed chain: the downgraded code reads them as broken.
    op.drop_table("login_throttles")
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("last_key_id")
    op.drop_column("audit_entries", "key_id")
