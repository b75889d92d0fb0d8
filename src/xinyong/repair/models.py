from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class RepairStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the platform to accept or return it
    RETURNED = "returned"  # material missing; the subject resubmits
    ACCEPTED = "accepted"  # with the owning department for review
    APPROVED = "approved"  # publication stopped
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    RESTORED = "restored"  # commitment broken: publication restored

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in (RepairStatus.SUBMITTED, RepairStatus.RETURNED, RepairStatus.ACCEPTED)


STATUS_LABELS = {
    RepairStatus.SUBMITTED: "已提交，待受理",
    RepairStatus.RETURNED: "已退回补正",
    RepairStatus.ACCEPTED: "已受理，部门审核中",
    RepairStatus.APPROVED: "修复成功，已停止公示",
    RepairStatus.REFUSED: "不予修复",
    RepairStatus.WITHDRAWN: "已撤回",
    RepairStatus.RESTORED: "违反承诺，已恢复公示",
}


class RepairApplication(Base):
    __tablename__ = "repair_applications"
    # An application is for a record (终止公示) or for a list entry (移出), never both, never neither.
    __table_args__ = (CheckConstraint("(record_id IS NULL) <> (list_entry_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    # Set to record_id while the application is open: a unique column, so two open applications for one
    # record cannot exist, on either database, whatever the race.
    open_record_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    list_entry_id: Mapped[int | None] = mapped_column(ForeignKey("list_entries.id"), index=True)
    open_list_entry_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # as open_record_id
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("subject_accounts.id"))
    status: Mapped[RepairStatus] = mapped_column(_enum(RepairStatus), index=True)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)  # how the obligation was fulfilled
    submitted_on: Mapped[date] = mapped_column(Date)  # last (re)submission
    platform_due: Mapped[date] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    department_due: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    missing_materials: Mapped[str | None] = mapped_column(Text)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer, default=1)  # submissions so far
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list[RepairEvent]] = relationship(order_by="RepairEvent.id", viewonly=True)


class RepairEvent(Base):
    """The history of an application, one row per move; nothing is overwritten by a resubmission."""

    __tablename__ = "repair_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("repair_applications.id", ondelete="CASCADE"),
                                                index=True)  # fmt: skip
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    # The console account that took a staff step: one person never takes both steps of one application.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RepairCommitment(Base):
    """The 信用修复承诺书 as signed online: the exact text, its hash, who signed and when."""

    __tablename__ = "repair_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("repair_applications.id", ondelete="CASCADE"),
                                                index=True)  # fmt: skip
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(50))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client: Mapped[str | None] = mapped_column(String(64))
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breach_reason: Mapped[str | None] = mapped_column(Text)
