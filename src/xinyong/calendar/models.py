from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class CalendarOverride(Base):
    """The operator's own entries for the working-day calendar: years the library does not know yet
    (the State Council publishes each year's holidays in the autumn before) and local corrections."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
