from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class CalendarOverride(Base):
    """The operator's own entries for the working-day calendar: years the library does not know yet
    (the State Council publishes each year's holidays in the autumn before) and local corrections."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))


class RegionCalendarOverride(Base):
    """A region's local working day or holiday (a county's own 休息日 or 调休): it wins over the platform's
    override of the same day, in that region and the regions under it (`regions.inherit`)."""

    __tablename__ = "calendar_region_overrides"

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
