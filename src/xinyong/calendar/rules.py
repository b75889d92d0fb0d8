"""Working-day (工作日) arithmetic for timeliness rules such as the 7-working-day 双公示 deadline.

Pure: no I/O, no clock. The operator's override table is passed in by the caller.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import date

import chinese_calendar

# The library validates against the span of its own holiday table, so derive the span the same way
# instead of hard-coding it; upgrading the package then widens coverage without a code change.
_LIBRARY_YEARS = range(
    min(chinese_calendar.holidays).year,
    max(chinese_calendar.holidays).year + 1,
)

DEFAULT_REPORT_WORKDAYS = 7


def library_covers(year: int) -> bool:
    """Whether `chinese_calendar` has the State Council holiday notice for `year`."""
    return year in _LIBRARY_YEARS


class WorkdayCalendar:
    """Working days per the State Council holiday notice, corrected by the operator's overrides.

    Precedence for a date: override, then the library, then Monday–Friday. A year that needed the
    Monday–Friday guess (library does not know it, operator entered nothing for it) is added to
    `uncovered_years` the first time it is used, so the platform can tell the operator to configure it.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        # Copied so that later edits to the caller's table cannot silently disagree with the caches.
        self._overrides = {d.toordinal(): bool(v) for d, v in (overrides or {}).items()}
        self._override_years = {d.year for d in (overrides or {})}
        self.uncovered_years: set[int] = set()
        # Per year: the working days as ordinals, as a set for membership and sorted for counting.
        self._sets: dict[int, frozenset[int]] = {}
        self._sorted: dict[int, tuple[int, ...]] = {}
        # Unbounded on purpose: keys are (decision date, n), a few thousand distinct dates per import.
        self._deadlines: dict[tuple[date, int], date] = {}

    @staticmethod
    def covered_years() -> range:
        """Years the bundled `chinese_calendar` knows (both ends inclusive as a `range`)."""
        return _LIBRARY_YEARS

    def _load_year(self, year: int) -> tuple[int, ...]:
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        if library_covers(year):
            work = {o for o in range(first, last + 1) if chinese_calendar.is_workday(date.fromordinal(o))}
        else:
            if year not in self._override_years:
                self.uncovered_years.add(year)
            work = {o for o in range(first, last + 1) if date.fromordinal(o).weekday() < 5}
        for o, is_work in self._overrides.items():
            if not first <= o <= last:
                continue
            if is_work:
                work.add(o)
            else:
                work.discard(o)
        ordered = tuple(sorted(work))
        self._sets[year] = frozenset(work)
        self._sorted[year] = ordered
        return ordered

    def _year_days(self, year: int) -> tuple[int, ...]:
        days = self._sorted.get(year)
        return self._load_year(year) if days is None else days

    def is_workday(self, d: date) -> bool:
        days = self._sets.get(d.year)
        if days is None:
            self._load_year(d.year)
            days = self._sets[d.year]
        return d.toordinal() in days

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day strictly after `d`; `d` itself when n == 0 (whether or not it works)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return d
        key = (d, n)
        cached = self._deadlines.get(key)
        if cached is not None:
            return cached
        year = d.year
        days = self._year_days(year)
        # Index of the target within this year's working days; spill into following years.
        i = bisect_right(days, d.toordinal()) + n - 1
        while i >= len(days):
            i -= len(days)
            year += 1
            days = self._year_days(year)
        result = date.fromordinal(days[i])
        self._deadlines[key] = result
        return result

    def report_deadline(self, decision_date: date, workdays: int = DEFAULT_REPORT_WORKDAYS) -> date:
        """Last day a decision may reach the platform: the `workdays`-th working day after the decision."""
        # Inlined cache hit: this runs once per imported row.
        cached = self._deadlines.get((decision_date, workdays))
        return cached if cached is not None else self.add_workdays(decision_date, workdays)

    def is_late(
        self, decision_date: date, reported_on: date, workdays: int = DEFAULT_REPORT_WORKDAYS
    ) -> bool:
        """Late only after the deadline day: arriving on the deadline itself is on time."""
        return reported_on > self.report_deadline(decision_date, workdays)

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end <= start.

        Inverse of add_workdays: workdays_between(d, add_workdays(d, n)) == n.
        """
        if end <= start:
            return 0
        lo, hi = start.toordinal(), end.toordinal()
        total = 0
        for year in range(start.year, end.year + 1):
            days = self._year_days(year)
            total += bisect_right(days, hi) - bisect_right(days, lo)
        return total
