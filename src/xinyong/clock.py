"""The platform's notion of "today": the date in China Standard Time, whatever the server's zone.

Deadlines, publication periods and "not in the future" checks are all dates in Beijing time; a server
clock in UTC would otherwise flip them at 08:00.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(CHINA).date()


def now() -> datetime:
    return datetime.now(CHINA)
