from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"  # waiting for the draw
    DRAWN = "drawn"  # subjects and inspectors drawn, recorded and audited; not yet public
    PUBLISHED = "published"  # plan, draw and results on the portal (一公开)

    @property
    def label(self) -> str:
        return {"draft": "待抽取", "drawn": "已抽取（待公示）", "published": "已公示"}[self.value]


class Inspector(Base):
    """One law-enforcement inspector of the roster (执法检查人员库)."""

    __tablename__ = "inspectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    badge_no: Mapped[str] = mapped_column(String(40), unique=True)  # 执法证号
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectorExclusion(Base):
    """A conflict of interest (回避): this inspector is never paired with this subject."""

    __tablename__ = "inspector_exclusions"
    __table_args__ = (UniqueConstraint("inspector_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    reason: Mapped[str] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionPlan(Base):
    """A random-inspection plan: matter, department, period, population, ratios per grade, special domains."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    matter: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # {"kinds": [...], "regions": [...], "sector": key or null}
    population: Mapped[dict[str, Any]] = mapped_column(JSONType)
    ratios: Mapped[dict[str, str]] = mapped_column(JSONType)  # grade → percent, as text ("2", "12.5")
    special_domains: Mapped[list[str]] = mapped_column(JSONType)  # sector keys inspected whatever the grade
    inspectors_per_subject: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_on: Mapped[date | None] = mapped_column(Date)
    publish_until: Mapped[date | None] = mapped_column(Date)


class PlanInspector(Base):
    __tablename__ = "inspection_plan_inspectors"

    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id", ondelete="CASCADE"), primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspectors.id"), primary_key=True)


class PlanSectorMember(Base):
    """A subject that matched one of the plan's catalogue filters (its sector, a special domain) when the plan
    was made: the plan's list of inspection objects (检查对象名录) is fixed then, its grades when it is drawn."""

    __tablename__ = "inspection_plan_sectors"

    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True)


class InspectionDraw(Base):
    """The one draw of a plan, recorded before anyone sees it: the seed, the population snapshot it was made
    over (sorted, compressed, with its digest), the roster with its exclusions, and the result's digest."""

    __tablename__ = "inspection_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"), unique=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    evaluation_run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id"))
    on_day: Mapped[date] = mapped_column(Date)
    population_size: Mapped[int] = mapped_column(Integer)
    population_digest: Mapped[str] = mapped_column(String(64))
    population: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the snapshot text
    roster: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    strata: Mapped[dict[str, Any]] = mapped_column(JSONType)  # per grade: population, asked, drawn
    drawn: Mapped[int] = mapped_column(Integer)
    result_digest: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionAssignment(Base):
    """A drawn subject, its inspectors, and the result the inspecting department recorded."""

    __tablename__ = "inspection_assignments"
    __table_args__ = (UniqueConstraint("plan_id", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("inspection_plans.id"))
    # No foreign key (subjects are never deleted): a draw stores hundreds of thousands of rows at once, and
    # PostgreSQL checked each against subjects, half of the draw's insert.
    subject_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # order in the draw (by USCC)
    grade: Mapped[str] = mapped_column(String(8))
    special_domain: Mapped[str | None] = mapped_column(String(40))
    inspector_ids: Mapped[list[int]] = mapped_column(JSONType)
    outcome: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    inspected_on: Mapped[date | None] = mapped_column(Date)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
