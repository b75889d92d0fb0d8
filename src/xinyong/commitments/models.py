from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class TaskStatus(enum.StrEnum):
    OPEN = "open"  # 待核查
    CONFIRMED = "confirmed"  # 核查属实
    UNTRUE = "untrue"  # 承诺不实

    @property
    def label(self) -> str:
        return {"open": "待核查", "confirmed": "核查属实", "untrue": "承诺不实"}[self.value]


class OnlineCommitment(Base):
    """A commitment a signed-in subject made on the portal from a template (or signed in a repair application,
    `template_key` "repair:<application id>"): what it agreed to, word for word, and the hash printed on its
    copy. The commitment itself is the record (`record_id`) the pipeline stored."""

    __tablename__ = "online_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("subject_accounts.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    template_key: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    text: Mapped[str] = mapped_column(Text)
    liability: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    made_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerificationTask(Base):
    """核查 of a 告知承诺 (证明事项告知承诺型, 审批替代型) by the accepting department, due within the matter's
    working days; overdue when still open after `due_on`."""

    __tablename__ = "commitment_verifications"
    __table_args__ = (
        Index("ix_commitment_verifications_department_status", "department_id", "status"),
        Index("ix_commitment_verifications_due_on", "due_on"),  # the month's tasks (monitoring), the overdue ones
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    code: Mapped[str] = mapped_column(String(20))
    matter: Mapped[str] = mapped_column(String(500))
    made_on: Mapped[date] = mapped_column(Date)
    workdays: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.OPEN)
    finding: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[str | None] = mapped_column(String(500))  # 违诺责任追究内容, when untrue
    verified_on: Mapped[date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def on_time(self) -> bool:
        return self.verified_on is not None and self.verified_on <= self.due_on
