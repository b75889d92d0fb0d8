from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class ReportKind(enum.StrEnum):
    PUBLIC = "public"  # what the portal shows (公开版)
    OWN = "own"  # the subject's own, restricted fields included (主体版)
    SPECIAL = "special"  # 专项信用报告: a span and 领域, in place of "no violation" certificates

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    ReportKind.PUBLIC: "公共信用信息报告（公开版）",
    ReportKind.OWN: "公共信用信息报告（主体查询版）",
    ReportKind.SPECIAL: "专项信用报告（替代有无违法违规记录证明）",
}


class IssuedReport(Base):
    """One report as issued: enough to verify it, nothing of what it says."""

    __tablename__ = "issued_reports"
    __table_args__ = (Index("ix_issued_reports_department_generated", "department_id", "generated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[ReportKind] = mapped_column(
        Enum(ReportKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    # As printed on the report (a person's name and ID number masked): the verification page shows these.
    subject_name: Mapped[str] = mapped_column(String(200))
    subject_code: Mapped[str | None] = mapped_column(String(18))
    span_from: Mapped[date | None] = mapped_column(Date)
    span_to: Mapped[date | None] = mapped_column(Date)
    domains: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # 领域 labels of a special report
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(100))  # the actor's label, "public" for the portal
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    check_number: Mapped[str | None] = mapped_column(String(24))  # the credit check it was asked in
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON of the content
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # of the signed PDF file, as issued
