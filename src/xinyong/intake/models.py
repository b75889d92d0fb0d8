"""The department catalogue (部门目录清单) and the committed watermark of each database source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class DepartmentDuty(Base):
    """One line of a department's catalogue: it must report `record_type` at `frequency` (rules.FREQUENCIES)."""

    __tablename__ = "department_duties"
    __table_args__ = (UniqueConstraint("department_id", "record_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    frequency: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PullState(Base):
    """Where the last pull of a database source stopped: the watermark (and key, for rows sharing a watermark) of
    the last row whose batch was committed. A pull starts after it; an interrupted pull resumes from it."""

    __tablename__ = "pull_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64), unique=True)
    watermark: Mapped[str | None] = mapped_column(Text)  # rules.encode_mark: "<type>:<value>"
    last_key: Mapped[str | None] = mapped_column(Text)
    rows_pulled: Mapped[int] = mapped_column(Integer, default=0)
    last_batch_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
