from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class CreditCheck(Base):
    __tablename__ = "credit_checks"
    __table_args__ = (
        Index("ix_credit_checks_department_created", "department_id", "created_at"),
        Index("ix_credit_checks_subject_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    batch_no: Mapped[str | None] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    matter: Mapped[str] = mapped_column(String(40))
    query_kind: Mapped[str] = mapped_column(String(8))  # "code" | "name"
    query_text: Mapped[str] = mapped_column(String(200))  # ID numbers masked
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # "found" | "not-found" | "candidates" | "invalid"
    hint: Mapped[str | None] = mapped_column(String(16))  # block | warn | fast_track | none
    is_hit: Mapped[bool] = mapped_column(Boolean, default=False)  # a membership or a measure was returned
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)  # what was returned, by reference


class CheckFeedback(Base):
    """奖惩结果反馈: which measure the department actually applied, or why not."""

    __tablename__ = "credit_check_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("credit_checks.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measures.id"))
    is_applied: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
