from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.calendar.models import CalendarOverride
from xinyong.calendar.rules import WorkdayCalendar


def load_calendar(session: Session) -> WorkdayCalendar:
    overrides = {row.day: row.is_workday for row in session.scalars(select(CalendarOverride))}
    return WorkdayCalendar(overrides)


def set_override(session: Session, *, day: date, is_workday: bool, note: str | None = None) -> CalendarOverride:
    override = session.get(CalendarOverride, day)
    if override is None:
        override = CalendarOverride(day=day, is_workday=is_workday, note=note)
        session.add(override)
    else:
        override.is_workday = is_workday
        override.note = note
    return override


def remove_override(session: Session, *, day: date) -> bool:
    override = session.get(CalendarOverride, day)
    if override is None:
        return False
    session.delete(override)
    return True


def list_overrides(session: Session, *, year: int | None = None) -> list[CalendarOverride]:
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        query = query.where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.scalars(query))
