"""`period_last_day` in SQL against `records.rules.add_months`, on the database under test."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Column, Date, Integer, MetaData, Table, insert, select

from xinyong.db import period_last_day
from xinyong.records.rules import add_months


def test_period_last_day_clamps_at_month_ends_as_add_months_does(db_session):
    table = Table("period_days", MetaData(), Column("id", Integer, primary_key=True), Column("day", Date),
                  prefixes=["TEMPORARY"])  # fmt: skip
    table.create(db_session.connection())
    # Two years with a leap day, every day, so every month end and every day after one is included.
    days = [date(2023, 1, 1) + timedelta(days=n) for n in range(2 * 366)]
    db_session.execute(insert(table), [{"id": n, "day": d} for n, d in enumerate(days)])
    for months in (0, 1, 3, 6, 11, 12, 24, 36, 1200):
        got = dict(db_session.execute(select(table.c.day, period_last_day(table.c.day, months))).all())
        want = {d: add_months(d, months) - timedelta(days=1) for d in days}
        assert got == want, months
