from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # seen and taken in hand by the department
    RESOLVED = "resolved"  # the condition ended, or the 信用办 closed it

    @property
    def label(self) -> str:
        return {"open": "待处理", "acknowledged": "已确认", "resolved": "已解决"}[self.value]


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule", "key"), Index("ix_alerts_department_status", "department_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120))  # the condition: one warning per (rule, key)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))  # None: the 信用办
    month: Mapped[str | None] = mapped_column(String(7))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[AlertStatus] = mapped_column(
        Enum(AlertStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=AlertStatus.OPEN,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
