"""subjects: no index on the name's matching key

Revision ID: 0026_subjects_name_unindexed
Revises: 0025_listing_index_order
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026_subjects_name_unindexed"
down_revision: str | Sequence[str] | None = "0025_listing_index_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_subjects_name_norm"


def upgrade() -> None:
    # Every new subject put a key in this index at a random place (names are in no order), so an import of new
    # subjects dirtied one more page of it per row once the index outgrew the page cache: about as much as the
    # unique code's index. Only the 重错码 scan read it, to group every subject by name, which reads the whole
    # table anyway. Subjects are found by their codes, and by name through the name index (subject_grams).
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="subjects")
        return
    with op.get_context().autocommit_block():  # no lock that would make imports wait
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "subjects", ["name_norm"])
        return
    with op.get_context().autocommit_block():  # a build stopped part-way leaves an invalid index: dropped first
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
        op.execute(f"CREATE INDEX CONCURRENTLY {NAME} ON subjects (name_norm)")
