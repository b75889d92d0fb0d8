"""When a job is due: intervals from the last start, daily times in Beijing time, retries after a failure;
and the schedules operators write. A manual clock: nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from xinyong.clock import CHINA
from xinyong.errors import InvalidInput
from xinyong.jobs.rules import Schedule, load_schedules, parse_duration, parse_time_of_day

DAILY = Schedule(daily_at=time(1, 30))
EVERY = Schedule(every=timedelta(minutes=15), retry=timedelta(minutes=5))


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)  # type: ignore[misc]


def test_never_run_is_due_now() -> None:
    now = beijing(2026, 12, 5, 12, 0)
    assert DAILY.is_due(last_start=None, last_ok=True, now=now)
    assert EVERY.is_due(last_start=None, last_ok=True, now=now)


def test_interval_counts_from_the_last_start() -> None:
    start = beijing(2026, 12, 5, 12, 0)
    assert EVERY.next_due(last_start=start, last_ok=True, now=start) == start + timedelta(minutes=15)
    assert not EVERY.is_due(last_start=start, last_ok=True, now=start + timedelta(minutes=14, seconds=59))
    assert EVERY.is_due(last_start=start, last_ok=True, now=start + timedelta(minutes=15))


def test_daily_time_is_beijing_time_whatever_the_zone_of_the_timestamps() -> None:
    # Ran at 01:31 Beijing (17:31 UTC the day before): next due at 01:30 Beijing the next day.
    last = datetime(2026, 12, 4, 17, 31, tzinfo=UTC)
    assert DAILY.next_due(last_start=last, last_ok=True, now=last) == beijing(2026, 12, 6, 1, 30)
    assert not DAILY.is_due(last_start=last, last_ok=True, now=datetime(2026, 12, 5, 17, 29, tzinfo=UTC))
    assert DAILY.is_due(last_start=last, last_ok=True, now=datetime(2026, 12, 5, 17, 30, tzinfo=UTC))


def test_daily_job_started_before_its_time_runs_again_the_same_day() -> None:
    last = beijing(2026, 12, 5, 0, 5)  # first start of the worker, just after midnight
    assert DAILY.next_due(last_start=last, last_ok=True, now=last) == beijing(2026, 12, 5, 1, 30)


def test_run_exactly_at_its_time_waits_a_day() -> None:
    last = beijing(2026, 12, 5, 1, 30)
    assert DAILY.next_due(last_start=last, last_ok=True, now=last) == beijing(2026, 12, 6, 1, 30)


def test_failed_run_is_retried_after_its_delay() -> None:
    last = beijing(2026, 12, 5, 1, 30)
    assert DAILY.next_due(last_start=last, last_ok=False, now=last) == last + timedelta(minutes=10)
    assert EVERY.next_due(last_start=last, last_ok=False, now=last) == last + timedelta(minutes=5)
    # A retry never postpones the regular time.
    quick = Schedule(every=timedelta(minutes=1), retry=timedelta(minutes=5))
    assert quick.next_due(last_start=last, last_ok=False, now=last) == last + timedelta(minutes=1)


def test_disabled_job_is_never_due() -> None:
    off = Schedule(every=timedelta(minutes=1), enabled=False)
    assert not off.is_due(last_start=None, last_ok=True, now=beijing(2026, 12, 5, 1, 0))
    assert "已停用" in off.describe()


def test_describe() -> None:
    assert DAILY.describe() == "每日 01:30（北京时间）"
    assert EVERY.describe() == "每 15 分钟"


@pytest.mark.parametrize(("text", "expected"), [("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)),
                                                ("2h", timedelta(hours=2)), (" 1d ", timedelta(days=1))])
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "0m", "-1m", "1w", "1.5h", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInput, match="时间间隔"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["24:00", "1:60", "noon", "", "01:30:00"])
def test_bad_times(text: str) -> None:
    with pytest.raises(InvalidInput, match="HH:MM"):
        parse_time_of_day(text)


def test_schedules_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "jobs.toml"
    path.write_text('[jobs.a]\ndaily = "02:00"\n\n[jobs.b]\nevery = "5m"\nenabled = false\nlease = "30m"\n')
    schedules = load_schedules(path)
    assert schedules["a"] == Schedule(daily_at=time(2, 0))
    assert schedules["b"].every == timedelta(minutes=5)
    assert not schedules["b"].enabled
    assert schedules["b"].lease == timedelta(minutes=30)
    assert load_schedules(None) == {}


@pytest.mark.parametrize(("text", "message"), [
    ('[jobs.a]\nevery = "5m"\ndaily = "01:00"\n', "其中之一"),
    ("[jobs.a]\n", "其中之一"),
    ('[jobs.a]\nevery = "5m"\nwhen = 1\n', "无法识别"),
    ('[jobs.a]\nevery = "5 minutes"\n', "时间间隔"),
    ("[jobs\n", "不是有效的 TOML"),
    ('[worker]\npoll = 1\n', "应由"),
])  # fmt: skip
def test_bad_schedules_file(tmp_path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_schedules(path)


def test_missing_schedules_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="无法读取"):
        load_schedules(tmp_path / "none.toml")
