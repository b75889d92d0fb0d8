"""credit repair of list entries (移出): an application is for a record or for a list entry

Revision ID: 0007
Revises: 0006

Additive: record_id becomes nullable, list_entry_id and open_list_entry_id are added, and a check keeps
exactly one of record_id and list_entry_id set. On SQLite the table is recreated (batch mode; env.py turns
foreign keys off around it so the rows that reference applications survive).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("list_entry_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("open_list_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_repair_applications_list_entry_id_list_entries"), "list_entries", ["list_entry_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_repair_applications_open_list_entry_id"), ["open_list_entry_id"]
        )
        batch_op.create_index(batch_op.f("ix_repair_applications_list_entry_id"), ["list_entry_id"], unique=False)
        batch_op.create_check_constraint("one_target", "(record_id IS NULL) <> (list_entry_id IS NULL)")
    _check_foreign_keys()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM repair_applications WHERE list_entry_id IS NOT NULL")).scalar():
        raise RuntimeError("repair applications for list entries exist; they would be lost by this downgrade")
    with op.batch_alter_table("repair_applications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_repair_applications_one_target"), type_="check")
        batch_op.drop_index(batch_op.f("ix_repair_applications_list_entry_id"))
        batch_op.drop_constraint(batch_op.f("uq_repair_applications_open_list_entry_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_repair_applications_list_entry_id_list_entries"), type_="foreignkey")
        batch_op.drop_column("open_list_entry_id")
        batch_op.drop_column("list_entry_id")
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=False)
    _check_foreign_keys()


def _check_foreign_keys() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        broken = [row for table in ("repair_applications", "repair_events", "repair_commitments", "publication_stops")
                  for row in bind.execute(sa.text(f"PRAGMA foreign_key_check({table})")).fetchall()]  # fmt: skip
        if broken:
            raise RuntimeError(f"foreign keys broken by the table rebuild: {broken[:5]}")
