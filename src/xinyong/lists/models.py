from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class ListNature(enum.StrEnum):
    """What being on the list means: incentives (红名单) or closer scrutiny and sanctions."""

    HONOR = "honor"  # 守信激励对象
    DISHONESTY = "dishonesty"  # 严重失信主体
    WATCH = "watch"  # 重点关注

    @property
    def label(self) -> str:
        return {"honor": "守信激励", "dishonesty": "严重失信", "watch": "重点关注"}[self.value]

    @property
    def is_punitive(self) -> bool:
        return self is not ListNature.HONOR


class ListOrigin(enum.StrEnum):
    LOCAL = "local"  # decided on this platform, by the listing procedure
    IMPORTED = "imported"  # decided elsewhere (courts, tax, procurement …) and imported

    @property
    def label(self) -> str:
        return {"local": "本地认定", "imported": "外部导入"}[self.value]


class EntryState(enum.StrEnum):
    PROPOSED = "proposed"
    NOTIFIED = "notified"
    OBJECTED = "objected"
    DECIDED = "decided"
    PUBLISHED = "published"
    EXPIRED = "expired"
    REMOVED = "removed"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    EntryState.PROPOSED: "拟列入",
    EntryState.NOTIFIED: "已告知（异议期）",
    EntryState.OBJECTED: "异议处理中",
    EntryState.DECIDED: "已决定列入（待公示）",
    EntryState.PUBLISHED: "已公示",
    EntryState.EXPIRED: "已到期",
    EntryState.REMOVED: "已移出",
    EntryState.WITHDRAWN: "不予列入",
}


class ListType(Base):
    """A list type. `region_code` NULL: the platform's own, inherited by every region; a region's own type of the
    same key overrides it for that region and the regions under it (`regions.inherit`)."""

    __tablename__ = "list_types"
    __table_args__ = (UniqueConstraint("key", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    nature: Mapped[ListNature] = mapped_column(_enum(ListNature))
    origin: Mapped[ListOrigin] = mapped_column(_enum(ListOrigin))
    legal_basis: Mapped[str] = mapped_column(Text)
    # USCCs of the departments that may decide entries; empty means any department.
    deciding_departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    entry_criteria: Mapped[str] = mapped_column(Text)
    duration_months: Mapped[int | None] = mapped_column(Integer)  # None: until exit
    exit_conditions: Mapped[str] = mapped_column(Text)
    remedy_route: Mapped[str] = mapped_column(Text)
    objection_workdays: Mapped[int | None] = mapped_column(Integer)  # None: the platform's setting
    source: Mapped[str | None] = mapped_column(String(200))  # imported lists: who decides them
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListEntry(Base):
    """One subject on one list, from proposal (or import) to expiry or exit."""

    __tablename__ = "list_entries"
    __table_args__ = (
        Index("ix_list_entries_subject_state", "subject_id", "state"),
        Index("ix_list_entries_type_state", "list_type_id", "state", "valid_until"),
        UniqueConstraint("list_type_id", "source_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type_id: Mapped[int] = mapped_column(ForeignKey("list_types.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    subject_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    origin: Mapped[ListOrigin] = mapped_column(_enum(ListOrigin))
    state: Mapped[EntryState] = mapped_column(_enum(EntryState))
    reasons: Mapped[str] = mapped_column(Text)  # 列入事由 (facts)
    basis: Mapped[str] = mapped_column(Text)  # the legal basis of this listing
    # prior notice (告知)
    rights: Mapped[str | None] = mapped_column(Text)
    notified_on: Mapped[date | None] = mapped_column(Date)
    objection_deadline: Mapped[date | None] = mapped_column(Date)
    # objection (异议) and its answer
    objection: Mapped[str | None] = mapped_column(Text)
    objected_on: Mapped[date | None] = mapped_column(Date)
    objection_answer: Mapped[str | None] = mapped_column(Text)
    # decision and publication
    decision_no: Mapped[str | None] = mapped_column(String(128))
    decided_on: Mapped[date | None] = mapped_column(Date)
    publish_deadline: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
    is_published_late: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # last day in force; None: until exit
    # the end
    ended_on: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(Text)
    # imported lists: where the entry came from
    source: Mapped[str | None] = mapped_column(String(200))
    source_ref: Mapped[str | None] = mapped_column(String(128))  # 文书号/案号, unique per type
    import_id: Mapped[int | None] = mapped_column(ForeignKey("list_imports.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListEvent(Base):
    """A step of an entry's procedure, as the subject is shown it."""

    __tablename__ = "list_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("list_entries.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    on_day: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListImport(Base):
    """One imported file of a list decided elsewhere, with its counts; problems are rows of their own."""

    __tablename__ = "list_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type_id: Mapped[int] = mapped_column(ForeignKey("list_types.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    actor: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # completed | failed
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListImportProblem(Base):
    __tablename__ = "list_import_problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("list_imports.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(48))
    value: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(500))
