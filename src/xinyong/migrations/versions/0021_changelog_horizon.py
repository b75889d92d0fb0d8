"""change log horizon (where pruning the change log has reached); verification tasks indexed by due date

Revision ID: 0021_changelog_horizon
Revises: 0020_region_refdata
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_changelog_horizon"
down_revision: str | Sequence[str] | None = "0020_region_refdata"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_sequence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pruned_seq", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("pruned_id", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("commitment_verifications", schema=None) as batch_op:
        batch_op.create_index("ix_commitment_verifications_due_on", ["due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commitment_verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_commitment_verifications_due_on")
    with op.batch_alter_table("change_sequence", schema=None) as batch_op:
        batch_op.drop_column("pruned_id")
        batch_op.drop_column("pruned_seq")
