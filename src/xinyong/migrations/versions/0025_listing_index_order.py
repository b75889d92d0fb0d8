"""records: the listing's index in the listing's order (type, decision date, id)

Revision ID: 0025_listing_index_order
Revises: 0024_records_subject_kind
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from xinyong.migrate import rebuild_index_concurrently

revision: str = "0025_listing_index_order"
down_revision: str | Sequence[str] | None = "0024_records_subject_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_records_type_decision"
INCLUDED = ["subject_id", "status", "publish_until", "tier", "department_id", "categories", "subject_kind"]


def upgrade() -> None:
    # The public listing orders by decision date and id. With the id only included, PostgreSQL read and sorted
    # every record of the newest day shown before the page's twenty (a day's records grow with the table); with
    # the id in the key the page is the index's order and stops at its limit. SQLite's index ended with the
    # rowid already; there the index is simply rebuilt.
    _rebuild(["record_type", "decision_date", "id"], INCLUDED)


def downgrade() -> None:
    _rebuild(["record_type", "decision_date"], ["id", *INCLUDED])


def _rebuild(columns: list[str], included: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="records")
        op.create_index(NAME, "records", columns)
        return
    # Built beside the old index without blocking writes (minutes at 10⁸ records, while imports run).
    rebuild_index_concurrently(NAME, "records", columns, included)
