from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class Withdrawal(Base):
    """A record that left publication (公示期满 or 撤销), noted by the sweep job: the audit trail of what the
    public could no longer see, and when. The portal does not depend on it (queries filter by date)."""

    __tablename__ = "disclosure_withdrawals"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    last_day: Mapped[date | None] = mapped_column(Date)
    swept_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicationStop(Base):
    """A record whose publication ended early (by an approved credit repair, `application_id`). Disclosure
    consults this table; ``lifted_on`` set means the stop no longer applies (the repair commitment was broken)."""

    __tablename__ = "publication_stops"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("repair_applications.id"))
    stopped_on: Mapped[date] = mapped_column(Date)
    lifted_on: Mapped[date | None] = mapped_column(Date)
