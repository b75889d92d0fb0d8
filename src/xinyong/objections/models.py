from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    CORRECTED = "corrected"
    REVOKED = "revoked"
    UPHELD = "upheld"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self is ObjectionStatus.OPEN


STATUS_LABELS = {
    ObjectionStatus.OPEN: "异议处理中",
    ObjectionStatus.CORRECTED: "异议成立，记录已更正",
    ObjectionStatus.REVOKED: "异议成立，记录已撤销",
    ObjectionStatus.UPHELD: "异议不成立，维持原记录",
    ObjectionStatus.WITHDRAWN: "已撤回",
}

GROUNDS = {
    "wrong-subject": "主体错误（不是本主体的记录）",
    "wrong-data": "信息内容有误",
    "not-publishable": "不应公示（如已过公示期、依法不予公示）",
    "other": "其他",
}


class Objection(Base):
    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    open_record_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # set while open: one at a time
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("subject_accounts.id"))
    status: Mapped[ObjectionStatus] = mapped_column(_enum(ObjectionStatus), index=True)
    ground: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    record_version: Mapped[int] = mapped_column(Integer)  # the version disputed
    filed_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
