from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.calendar.models import CalendarOverride, RegionCalendarOverride
from xinyong.calendar.rules import WorkdayCalendar
from xinyong.regions import inherit


def load_calendar(session: Session, *, region: str | None = None) -> WorkdayCalendar:
    """The working-day calendar of `region` (a department's region; None: the platform's): the platform's
    overrides, corrected by the local days of the region and of the regions above it, the nearest winning."""
    overrides = {row.day: row.is_workday for row in session.scalars(select(CalendarOverride))}
    regions = [r for r in inherit.chain(session, region) if r is not None]
    if regions:
        rows = session.scalars(select(RegionCalendarOverride).where(RegionCalendarOverride.region_code.in_(regions)))
        local = inherit.effective(rows, tuple(regions), key=lambda r: r.day, region=lambda r: r.region_code)
        overrides.update({day: row.is_workday for day, row in local.items()})
    return WorkdayCalendar(overrides)


def _owner(session: Session, region: str | None, actor: Actor | None) -> str | None:
    return inherit.for_actor(session, actor or Actor.system("cli"), region)


def set_override(session: Session, *, day: date, is_workday: bool, note: str | None = None,
                 region: str | None = None, actor: Actor | None = None) -> CalendarOverride | RegionCalendarOverride:  # fmt: skip
    """Declare a day a working day or a holiday: the platform's (no region, or the root's code), or a region's
    own local day (a county's 休息日 or 调休), which its 信用办 alone sets."""
    owner = _owner(session, region, actor)
    override: CalendarOverride | RegionCalendarOverride | None
    if owner is None:
        override = session.get(CalendarOverride, day)
        if override is None:
            override = CalendarOverride(day=day, is_workday=is_workday, note=note)
            session.add(override)
    else:
        override = session.get(RegionCalendarOverride, (owner, day))
        if override is None:
            override = RegionCalendarOverride(region_code=owner, day=day, is_workday=is_workday, note=note)
            session.add(override)
    override.is_workday = is_workday
    override.note = note
    return override


def remove_override(session: Session, *, day: date, region: str | None = None, actor: Actor | None = None) -> bool:
    owner = _owner(session, region, actor)
    override = session.get(CalendarOverride, day) if owner is None else session.get(RegionCalendarOverride, (owner, day))
    if override is None:
        return False
    session.delete(override)
    return True


def list_overrides(session: Session, *, year: int | None = None, region: str | None = None
                   ) -> list[CalendarOverride | RegionCalendarOverride]:  # fmt: skip
    """The platform's days (no region), or a region's own local days."""
    owner = inherit.owner(session, region)
    query = (select(CalendarOverride).order_by(CalendarOverride.day) if owner is None else
             select(RegionCalendarOverride).where(RegionCalendarOverride.region_code == owner)
             .order_by(RegionCalendarOverride.day))  # fmt: skip
    if year is not None:
        column = CalendarOverride.day if owner is None else RegionCalendarOverride.day
        query = query.where(column.between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.scalars(query))  # type: ignore[arg-type]
