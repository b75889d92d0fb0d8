from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class IssueKind(enum.StrEnum):
    CODE_MANY_NAMES = "code-many-names"  # one code reported under names that do not agree
    NAME_MANY_CODES = "name-many-codes"  # one organisation's name under different codes
    LEGACY_MISMATCH = "legacy-mismatch"  # a legacy code that disagrees with the USCC it is embedded in
    BAD_CHECK_DIGIT = "bad-check-digit"  # a code whose check digit fails (stored before the rule existed)

    @property
    def label(self) -> str:
        return ISSUE_LABELS[self]


ISSUE_LABELS = {
    IssueKind.CODE_MANY_NAMES: "一码多名",
    IssueKind.NAME_MANY_CODES: "一名多码",
    IssueKind.LEGACY_MISMATCH: "旧代码与统一社会信用代码不符",
    IssueKind.BAD_CHECK_DIGIT: "代码校验位错误",
}


class IssueStatus(enum.StrEnum):
    OPEN = "open"
    ASKED = "asked"  # the departments concerned were asked to correct their data
    MERGED = "merged"  # the subjects were merged into one
    DISTINCT = "distinct"  # checked: not a duplicate (a recorded name change, two real bodies)
    GONE = "gone"  # no longer found by the check (the data was corrected)

    @property
    def label(self) -> str:
        return {"open": "待处理", "asked": "已请部门更正", "merged": "已合并", "distinct": "已确认不是重错码",
                "gone": "已消除"}[self.value]  # fmt: skip

    @property
    def is_unresolved(self) -> bool:
        return self in (IssueStatus.OPEN, IssueStatus.ASKED)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class QualityIssue(Base):
    """One 重错码 finding: the subjects it concerns, the departments whose rows caused it, its resolution."""

    __tablename__ = "quality_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IssueKind] = mapped_column(_enum(IssueKind))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[IssueStatus] = mapped_column(_enum(IssueStatus), default=IssueStatus.OPEN, index=True)
    subject_ids: Mapped[list[int]] = mapped_column(JSONType)
    department_ids: Mapped[list[int]] = mapped_column(JSONType)
    affected: Mapped[int] = mapped_column(Integer)  # subjects concerned
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)  # names, codes: what a reviewer needs to decide
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
