"""records: the listing's index in the listing's order (type, decision date, id)

Revision ID: 0025_listing_index_order
Revises: 0024_records_subject_kind
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_listing_index_order"
down_revision: str | Sequence[str] | None = "0024_records_subject_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = ["subject_id", "status", "publish_until", "tier", "department_id", "categories", "subject_kind"]


def upgrade() -> None:
    # The public listing orders by decision date and id. With the id only included, PostgreSQL read and sorted
    # every record of the newest day shown before the page's twenty (a day's records grow with the table); with
    # the id in the key the page is the index's order and stops at its limit. A rebuild: a few seconds per
    # million records, writes to `records` waiting meanwhile. SQLite's index ended with the rowid already.
    op.drop_index("ix_records_type_decision", table_name="records")
    op.create_index("ix_records_type_decision", "records", ["record_type", "decision_date", "id"],
                    postgresql_include=INCLUDED)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_records_type_decision", table_name="records")
    op.create_index("ix_records_type_decision", "records", ["record_type", "decision_date"],
                    postgresql_include=["id", *INCLUDED])  # fmt: skip
