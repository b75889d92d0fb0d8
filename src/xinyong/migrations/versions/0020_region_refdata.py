"""region refdata: reference data set per region, inherited from the parent (按区划设置的基础数据)

Revision ID: 0020_region_refdata
Revises: 0019_regions
Create Date: 2026-12-05

List types and measures gain the region they belong to: every existing row gets NULL, the platform's own,
inherited by every region, so a single-region install reads exactly what it read before. A list type's key is
unique per region. Regions' local calendar days and their choices of file-based reference data (the
evaluation model, the commitment templates) get tables of their own, empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0020_region_refdata"
down_revision: str | Sequence[str] | None = "0019_regions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("list_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_list_types_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_list_types_key_region_code"), ["key", "region_code"])
        batch_op.create_index(batch_op.f("ix_list_types_region_code"), ["region_code"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_list_types_region_code_regions"), "regions", ["region_code"], ["code"])

    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.create_index(batch_op.f("ix_measures_region_code"), ["region_code"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_measures_region_code_regions"), "regions", ["region_code"], ["code"])

    op.create_table("calendar_region_overrides",
    sa.Column("region_code", sa.String(length=6), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("is_workday", sa.Boolean(), nullable=False),
    sa.Column("note", sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_calendar_region_overrides_region_code_regions")),
    sa.PrimaryKeyConstraint("region_code", "day", name=op.f("pk_calendar_region_overrides"))
    )

    op.create_table("region_settings",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("region_code", sa.String(length=6), nullable=True),
    sa.Column("name", sa.String(length=40), nullable=False),
    sa.Column("value", sa.String(length=500), nullable=False),
    sa.Column("updated_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_region_settings_region_code_regions")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_region_settings")),
    sa.UniqueConstraint("region_code", "name", name=op.f("uq_region_settings_region_code_name"))
    )
    with op.batch_alter_table("region_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_region_settings_region_code"), ["region_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("region_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_region_settings_region_code"))
    op.drop_table("region_settings")
    op.drop_table("calendar_region_overrides")

    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_measures_region_code_regions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_measures_region_code"))
        batch_op.drop_column("region_code")

    op.execute(sa.text("DELETE FROM list_types WHERE region_code IS NOT NULL"))  # regions' own types go with the column
    with op.batch_alter_table("list_types", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_list_types_region_code_regions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_list_types_region_code"))
        batch_op.drop_constraint(batch_op.f("uq_list_types_key_region_code"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_list_types_key"), ["key"])
        batch_op.drop_column("region_code")
