"""Who opted in to personal credit points, and the history of their scores (deleted on opting out)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class PointsMember(Base):
    __tablename__ = "points_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("subject_accounts.id", ondelete="CASCADE"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), unique=True)
    opted_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsHistory(Base):
    """The person's score on a day it was computed (one row per day); deleted with the membership."""

    __tablename__ = "points_history"
    __table_args__ = (UniqueConstraint("member_id", "computed_on", name="uq_points_history_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("points_members.id", ondelete="CASCADE"), index=True)
    computed_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(40))
