"""audit entries name the key that signed them

Existing audit entries keep their unkeyed SHA-256 links (key_id NULL) and still verify; the next entry starts
the keyed segment (the platform publishes a checkpoint of it), and no unkeyed entry may follow a keyed one.
Columns are added without rebuilding audit_entries, so its append-only triggers stay in place.

Revision ID: 0010_auditlogin
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_auditlogin"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_chain_head", sa.Column("last_key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Keyed entries cannot be expressed in the unkeyed chain: the downgraded code reads them as broken.
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("last_key_id")
    op.drop_column("audit_entries", "key_id")
