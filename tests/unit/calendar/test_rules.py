"""Working-day calendar: facts are checked against chinese_calendar itself, not assumed."""

import functools
import random
import time
from datetime import date, timedelta

import chinese_calendar
import pytest

from xinyong.calendar.rules import WorkdayCalendar, library_covers

COVERED = WorkdayCalendar.covered_years()


@functools.cache
def _library_is_workday(d: date) -> bool:
    # Memoised only because the library re-scans its tables on every call.
    return chinese_calendar.is_workday(d)


def _reference_add(d: date, n: int) -> date:
    """Day-by-day walk with the library, as an independent oracle."""
    while n:
        d += timedelta(days=1)
        n -= _library_is_workday(d)
    return d


def _reference_between(start: date, end: date) -> int:
    days = range(1, (end - start).days + 1)
    return sum(_library_is_workday(start + timedelta(days=i)) for i in days)


def test_covered_years_match_library_boundaries():
    msg = f"chinese_calendar covers {COVERED.start}–{COVERED.stop - 1}"
    # The tests below use dates from 2019 to 2026.
    assert 2019 in COVERED, msg
    assert 2026 in COVERED, msg
    chinese_calendar.is_workday(date(COVERED.start, 6, 1))
    chinese_calendar.is_workday(date(COVERED.stop - 1, 6, 1))
    for outside in (COVERED.start - 1, COVERED.stop):
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(date(outside, 6, 1))
        assert not library_covers(outside), msg
    assert library_covers(COVERED.start), msg
    assert library_covers(COVERED.stop - 1), msg


def test_documented_example_national_day_2025():
    cal = WorkdayCalendar()
    # The example relies on 2025-10-11 being a 调休 working Saturday inside the National Day break.
    assert date(2025, 10, 11).weekday() == 5
    assert chinese_calendar.is_workday(date(2025, 10, 11))
    assert not chinese_calendar.is_workday(date(2025, 10, 8))
    assert cal.report_deadline(date(2025, 9, 29)) == date(2025, 10, 15)
    assert not cal.is_late(date(2025, 9, 29), date(2025, 10, 15))
    assert cal.is_late(date(2025, 9, 29), date(2025, 10, 16))
    assert cal.workdays_between(date(2025, 9, 29), date(2025, 10, 15)) == 7


def test_decision_on_ordinary_friday_skips_weekend():
    cal = WorkdayCalendar()
    friday = date(2025, 11, 14)
    assert friday.weekday() == 4
    assert cal.report_deadline(friday) == date(2025, 11, 25) == _reference_add(friday, 7)


def test_decision_on_friday_before_tiaoxiu_sunday_counts_that_sunday():
    cal = WorkdayCalendar()
    sunday = date(2025, 9, 28)
    assert sunday.weekday() == 6
    assert chinese_calendar.is_workday(sunday)
    assert cal.is_workday(sunday)
    assert cal.add_workdays(date(2025, 9, 26), 1) == sunday
    assert cal.report_deadline(date(2025, 9, 26)) == date(2025, 10, 13)


def test_decision_inside_spring_festival_2026():
    cal = WorkdayCalendar()
    decided = date(2026, 2, 17)
    holiday = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert not any(chinese_calendar.is_workday(d) for d in holiday)
    assert not cal.is_workday(decided)
    # First working day is 02-24; 02-28 is a 调休 Saturday and counts as the 5th.
    assert cal.add_workdays(decided, 1) == date(2026, 2, 24)
    assert cal.add_workdays(decided, 5) == date(2026, 2, 28)
    assert cal.report_deadline(decided) == date(2026, 3, 3) == _reference_add(decided, 7)


def test_overrides_beat_the_library_both_ways():
    friday = date(2025, 11, 14)
    weekday_off = WorkdayCalendar({date(2025, 11, 17): False})
    assert not weekday_off.is_workday(date(2025, 11, 17))
    assert weekday_off.report_deadline(friday) == date(2025, 11, 26)

    weekend_on = WorkdayCalendar({date(2025, 11, 17): False, date(2025, 11, 15): True})
    assert weekend_on.is_workday(date(2025, 11, 15))
    assert weekend_on.add_workdays(friday, 1) == date(2025, 11, 15)
    assert weekend_on.report_deadline(friday) == date(2025, 11, 25)

    # Cancelling the library's own 调休 Saturday pushes the documented example back one day.
    cancelled = WorkdayCalendar({date(2025, 10, 11): False})
    assert cancelled.report_deadline(date(2025, 9, 29)) == date(2025, 10, 16)
    assert cancelled.uncovered_years == set()


def test_overrides_are_copied_at_construction():
    table = {date(2025, 11, 17): False}
    cal = WorkdayCalendar(table)
    table[date(2025, 11, 17)] = True
    assert not cal.is_workday(date(2025, 11, 17))


def test_uncovered_year_falls_back_to_monday_friday_and_is_recorded():
    year = 2031
    assert not library_covers(year), f"chinese_calendar now covers {COVERED}; pick a later year"
    cal = WorkdayCalendar()
    assert cal.uncovered_years == set()
    assert cal.is_workday(date(year, 1, 1))  # a Wednesday; really a holiday, hence the warning
    assert not cal.is_workday(date(year, 1, 4))
    assert cal.report_deadline(date(year, 1, 3)) == date(year, 1, 14)
    assert cal.uncovered_years == {year}


def test_year_before_library_is_also_recorded():
    cal = WorkdayCalendar()
    assert cal.report_deadline(date(COVERED.start - 1, 6, 6)).year == COVERED.start - 1
    assert cal.uncovered_years == {COVERED.start - 1}


def test_overrides_for_uncovered_year_are_honoured_and_mark_it_configured():
    cal = WorkdayCalendar({date(2031, 1, 6): False, date(2031, 1, 7): False, date(2031, 1, 11): True})
    assert cal.report_deadline(date(2031, 1, 3)) == date(2031, 1, 15)
    assert cal.uncovered_years == set()
    # The next year has no entries, so it is still reported once the deadline spills into it.
    cal.report_deadline(date(2031, 12, 30))
    assert cal.uncovered_years == {2032}


def test_deadline_spilling_into_uncovered_year_records_it():
    cal = WorkdayCalendar()
    last = COVERED.stop - 1
    cal.report_deadline(date(last, 12, 28))
    assert cal.uncovered_years == {last + 1}


def test_zero_workdays_returns_the_date_itself_even_on_a_holiday():
    cal = WorkdayCalendar()
    assert cal.add_workdays(date(2025, 10, 1), 0) == date(2025, 10, 1)
    assert cal.report_deadline(date(2025, 10, 1), workdays=0) == date(2025, 10, 1)
    assert cal.workdays_between(date(2025, 10, 1), date(2025, 10, 1)) == 0
    assert cal.workdays_between(date(2025, 10, 2), date(2025, 10, 1)) == 0


def test_negative_n_is_rejected():
    with pytest.raises(ValueError, match="n must be"):
        WorkdayCalendar().add_workdays(date(2025, 1, 2), -1)


def test_matches_library_walk_and_between_inverts_add_for_random_dates():
    rng = random.Random(20250929)
    cal = WorkdayCalendar()
    first = date(2019, 1, 1).toordinal()
    # Stay clear of the end of the library's data so the oracle never leaves it.
    last = date(2026, 11, 30).toordinal()
    for _ in range(2000):
        d = date.fromordinal(rng.randint(first, last))
        n = rng.randint(0, 20)
        target = cal.add_workdays(d, n)
        assert target == _reference_add(d, n), (d, n)
        assert cal.workdays_between(d, target) == n, (d, n)
        if n:
            assert cal.is_workday(target)
            assert cal.workdays_between(d, target - timedelta(days=1)) == n - 1
        end = date.fromordinal(rng.randint(d.toordinal(), min(last, d.toordinal() + 400)))
        assert cal.workdays_between(d, end) == _reference_between(d, end), (d, end)
    assert cal.uncovered_years == set()


def test_report_deadline_is_cheap_for_a_million_rows():
    rng = random.Random(7)
    start = date(2019, 1, 1).toordinal()
    distinct = [date.fromordinal(start + i) for i in range(3000)]
    rows = rng.choices(distinct, k=1_000_000)
    cal = WorkdayCalendar()
    deadline = cal.report_deadline
    began = time.perf_counter()
    for d in rows:
        deadline(d)
    elapsed = time.perf_counter() - began
    print(f"report_deadline: {elapsed / len(rows) * 1e6:.3f} µs/call over {len(distinct)} distinct dates")
    assert len(cal._deadlines) == len(set(rows))
