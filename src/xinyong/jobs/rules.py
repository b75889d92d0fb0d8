"""Pure decisions of the scheduler: schedules as operators write them, and when a job is next due.

Two kinds of schedule: `every = "15m"` (an interval from the start of the last run) and `daily = "01:30"`
(a time of day in Beijing time, whatever the server's zone). A run that failed is tried again after its retry
delay when that comes before the next regular time."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from xinyong.clock import CHINA
from xinyong.errors import InvalidInput

_DURATION = re.compile(r"\s*(\d+)\s*([smhd])\s*")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LONGEST = timedelta(days=366)  # the longest interval, retry or lease a schedule may set
_TIME = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `1d`."""
    match = _DURATION.fullmatch(str(text))
    if not match or not match.group(1).strip("0"):
        raise InvalidInput(reason=f"时间间隔“{str(text)[:20]}”格式不正确，应为正整数加单位 s/m/h/d（如 15m）")
    number, unit = match.group(1).lstrip("0"), match.group(2)
    if len(number) > 9 or int(number) * _SECONDS[unit] > LONGEST.total_seconds():  # and no 5,000-digit int()
        raise InvalidInput(reason=f"时间间隔“{str(text)[:20]}”过长，最长 {LONGEST.days} 天")
    return timedelta(**{_UNITS[unit]: int(number)})


def parse_time_of_day(text: str) -> time:
    match = _TIME.fullmatch(str(text))
    if not match:
        raise InvalidInput(reason=f"每日运行时间“{str(text)[:20]}”格式不正确，应为 HH:MM（北京时间，如 01:30）")
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class Schedule:
    every: timedelta | None = None
    daily_at: time | None = None  # Beijing time
    retry: timedelta = timedelta(minutes=10)
    lease: timedelta = timedelta(hours=1)
    enabled: bool = True

    def __post_init__(self) -> None:
        if (self.every is None) == (self.daily_at is None):
            raise ValueError("a schedule is either an interval or a daily time")

    def describe(self) -> str:
        text = f"每日 {self.daily_at:%H:%M}（北京时间）" if self.daily_at is not None else f"每 {_words(self.every)}"
        return text if self.enabled else f"{text}（已停用）"

    def next_due(self, *, last_start: datetime | None, last_ok: bool, now: datetime) -> datetime:
        """When the job is due next; due now when that is not after `now`. Never run: due now."""
        if last_start is None:
            return now
        if self.every is not None:
            regular = last_start + self.every
        else:
            assert self.daily_at is not None
            local = last_start.astimezone(CHINA)
            regular = datetime.combine(local.date(), self.daily_at, tzinfo=CHINA)
            if regular <= local:
                regular += timedelta(days=1)
        if not last_ok:
            regular = min(regular, last_start + self.retry)
        return regular

    def is_due(self, *, last_start: datetime | None, last_ok: bool, now: datetime) -> bool:
        return self.enabled and self.next_due(last_start=last_start, last_ok=last_ok, now=now) <= now


def _words(delta: timedelta | None) -> str:
    seconds = int(delta.total_seconds()) if delta else 0
    for size, unit in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} 秒"


def schedule_from(entry: dict[str, Any], *, name: str) -> Schedule:
    """One `[jobs.<name>]` table: `every` or `daily`, and optionally `enabled`, `retry`, `lease`."""
    unknown = set(entry) - {"every", "daily", "enabled", "retry", "lease"}
    if unknown:
        raise InvalidInput(reason=f"定时任务 {name} 的配置项无法识别：{'、'.join(sorted(unknown))}")
    if ("every" in entry) == ("daily" in entry):
        raise InvalidInput(reason=f"定时任务 {name} 须设置 every（间隔）或 daily（每日时间）其中之一")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):  # "false" in quotes is a string, and a string is true
        raise InvalidInput(reason=f"定时任务 {name} 的 enabled 应为 true 或 false（不加引号）")
    return Schedule(
        every=parse_duration(entry["every"]) if "every" in entry else None,
        daily_at=parse_time_of_day(entry["daily"]) if "daily" in entry else None,
        retry=parse_duration(entry.get("retry", "10m")),
        lease=parse_duration(entry.get("lease", "1h")),
        enabled=enabled,
    )


def load_schedules(path: Path | None) -> dict[str, Schedule]:
    """The schedules set in the configuration file (XINYONG_JOBS_CONFIG); a job not named keeps the default
    it was registered with."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(reason=f"无法读取定时任务配置 {path}（{exc.strerror}）") from None
    except UnicodeDecodeError:
        raise InvalidInput(reason=f"定时任务配置 {path} 须为 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(reason=f"定时任务配置 {path} 不是有效的 TOML：{exc}") from None
    jobs = data.get("jobs", {})
    if set(data) - {"jobs"} or not isinstance(jobs, dict) or not all(isinstance(v, dict) for v in jobs.values()):
        raise InvalidInput(reason=f"定时任务配置 {path} 应由 [jobs.<任务名>] 表组成")
    return {name: schedule_from(entry, name=name) for name, entry in jobs.items()}
