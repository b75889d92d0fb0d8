"""The 工作日 (working-day) calendar behind every "within N working days" rule.

Working days follow the State Council holiday notice: public holidays are not working days, and
调休 Saturdays/Sundays are. The `chinese_calendar` package supplies the notices for the years it
knows; the operator's override table supplies later years and corrections.

Invariants:
- An override for a date always wins over the library, and the library over the Monday–Friday guess.
- A year neither the library nor the override table knows is guessed as Monday–Friday and reported in
  `WorkdayCalendar.uncovered_years`, so the operator is told to enter that year's notice.
- `add_workdays(d, n)` is the n-th working day strictly after `d` (n = 0 gives `d`), and
  `workdays_between(d, add_workdays(d, n)) == n`.
- The 双公示 deadline is `add_workdays(decision_date, 7)`; a record is late only if it arrives after
  that day, so arriving on the deadline itself is on time.
- A calendar instance never changes its answers: the override table is copied at construction, so
  its caches stay valid; build a new instance after the operator edits the table.
"""

from xinyong.calendar.rules import DEFAULT_REPORT_WORKDAYS, WorkdayCalendar, library_covers

__all__ = ["DEFAULT_REPORT_WORKDAYS", "WorkdayCalendar", "library_covers"]
