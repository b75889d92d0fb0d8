from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLEARED = "cleared"  # 已清零

    @property
    def label(self) -> str:
        return {"open": "未清零", "cleared": "已清零"}[self.value]


class IntegrityCase(Base):
    """One 失信 record of a government body on the board: entered by the 信用办, or taken from a list entry."""

    __tablename__ = "integrity_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    list_entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"), unique=True)
    reference: Mapped[str | None] = mapped_column(String(128))  # 案号、文书号
    summary: Mapped[str] = mapped_column(Text)
    amount_yuan: Mapped[float | None] = mapped_column(Numeric(18, 2))
    listed_on: Mapped[date] = mapped_column(Date)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    clear_by: Mapped[date] = mapped_column(Date)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.OPEN, index=True)
    cleared_on: Mapped[date | None] = mapped_column(Date)
    clearing_note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"  # the court said it will list; the supervising body has time to act
    AVERTED = "averted"  # the obligation was performed before the listing
    LISTED = "listed"  # the listing happened

    @property
    def label(self) -> str:
        return {"pending": "待履行", "averted": "已履行，未纳入", "listed": "已被纳入失信名单"}[self.value]


class PrelistingNotice(Base):
    """A court's notice that it will list a government body as 失信被执行人 unless it performs."""

    __tablename__ = "prelisting_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    court: Mapped[str] = mapped_column(String(100))
    case_no: Mapped[str] = mapped_column(String(128))
    notified_on: Mapped[date] = mapped_column(Date)
    listing_expected_on: Mapped[date] = mapped_column(Date)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    obligation: Mapped[str] = mapped_column(Text)
    status: Mapped[NoticeStatus] = mapped_column(_enum(NoticeStatus), default=NoticeStatus.PENDING, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CivilServantRecord(Base):
    """One entry of a civil servant's integrity file (公务员诚信档案). Restricted: see the package's doc."""

    __tablename__ = "civil_servant_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_name: Mapped[str] = mapped_column(String(50), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_sealed: Mapped[str] = mapped_column(String(200))
    id_masked: Mapped[str] = mapped_column(String(18))
    employer: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(24))
    item: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date] = mapped_column(Date)
    source_document: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
