"""repair events name the console account that took each staff step (separation of duties)

Revision ID: 0010_dueprocess
Revises: 0009

Additive: repair_events.user_id, filled for earlier events from their actor label ("user:<username>";
usernames are unique and never change), so that applications already in progress are covered too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_dueprocess"
down_revision: str | Sequence[str] | None = "0010_ingestapi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repair_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_repair_events_user_id_users"), "users", ["user_id"], ["id"])
    op.execute(
        "UPDATE repair_events SET user_id = (SELECT users.id FROM users WHERE 'user:' || users.username = "
        "repair_events.actor) WHERE actor LIKE 'user:%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("repair_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_repair_events_user_id_users"), type_="foreignkey")
        batch_op.drop_column("user_id")
