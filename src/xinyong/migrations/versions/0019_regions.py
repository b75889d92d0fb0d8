"""regions: the region tree (市县信用一张网), departments" moves between regions, regional accounts

Revision ID: 0019_regions
Revises: 0018_ops
Create Date: 2026-12-05

An install that already holds departments serves one region: the one most of its departments" codes name.
When that code is in GB/T 2260 it becomes the platform"s own region (the root of the tree) and every
department is assigned to it; nothing is scoped until a second region is registered.
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db
from xinyong.regions import rules

revision: str = "0019_regions"
down_revision: str | Sequence[str] | None = "0018_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("regions",
    sa.Column("code", sa.String(length=6), nullable=False),
    sa.Column("name", sa.String(length=100), nullable=False),
    sa.Column("parent_code", sa.String(length=6), nullable=True),
    sa.Column("host", sa.String(length=253), nullable=True),
    sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["parent_code"], ["regions.code"], name=op.f("fk_regions_parent_code_regions")),
    sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    sa.UniqueConstraint("host", name=op.f("uq_regions_host"))
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)

    op.create_table("department_moves",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("department_id", sa.Integer(), nullable=False),
    sa.Column("from_region", sa.String(length=6), nullable=False),
    sa.Column("to_region", sa.String(length=6), nullable=False),
    sa.Column("moved_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_department_moves_department_id_departments")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_department_moves"))
    )
    with op.batch_alter_table("department_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_moves_department_id"), ["department_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_region_code"), ["region_code"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_region_code_regions"), "regions", ["region_code"], ["code"])

    _assign_existing_departments()


def _assign_existing_departments() -> None:
    bind = op.get_bind()
    departments = sa.table("departments", sa.column("region", sa.String))
    codes = Counter(code for (code,) in bind.execute(sa.select(departments.c.region)) if code)
    if not codes:
        return
    code = codes.most_common(1)[0][0]
    name = rules.official_name(code)
    if name is None:
        return  # codes outside GB/T 2260: the install stays as it was, without a region tree
    regions = sa.table("regions", sa.column("code", sa.String), sa.column("name", sa.String),
                       sa.column("created_at", xinyong.db.UTCDateTime))  # fmt: skip
    bind.execute(sa.insert(regions).values(code=code, name=name, created_at=xinyong.db.utcnow()))
    bind.execute(sa.update(departments).values(region=code))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_region_code_regions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_region_code"))
        batch_op.drop_column("region_code")

    with op.batch_alter_table("department_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_moves_department_id"))

    op.drop_table("department_moves")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))

    op.drop_table("regions")
