"""Pure rules of monitoring: months, KPI values from measures, scores, ranks and warning conditions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.errors import InvalidInput
from xinyong.monitoring.definitions import Kpi

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None, *, today: date) -> Month:
        """A month written YYYY-MM, not after the current one."""
        match = _MONTH.fullmatch((text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise InvalidInput(reason=f"月份“{(text or '')[:20]}”格式不正确，应为 YYYY-MM（如 2025-10）")
        month = cls(int(match.group(1)), int(match.group(2)))
        if month > cls.of(today):
            raise InvalidInput(reason=f"月份 {month} 尚未到来，不能统计未来的月份")
        return month

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self, n: int = 1) -> Month:
        index = self.year * 12 + self.month - 1 - n
        return Month(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class KpiValue:
    key: str
    value: float | None  # a rate in 0..1, or a count; None: not applicable ("—")
    numerator: int | None = None
    denominator: int | None = None
    reason: str | None = None  # why it is "—"
    score: float | None = None  # points earned, out of the KPI's weight

    @property
    def is_applicable(self) -> bool:
        return self.value is not None


def kpi_value(kpi: Kpi, measures: dict[str, int | None], unavailable: dict[str, str]) -> KpiValue:
    """The KPI's value from the department's measures. A rate with a zero denominator is not applicable:
    no rows is neither 0 % nor 100 %."""
    missing = [m for m in kpi.measures if measures.get(m) is None]
    if missing:
        reasons = sorted({unavailable.get(m, "无数据") for m in missing})
        return KpiValue(kpi.key, None, reason="；".join(reasons))
    if not kpi.is_rate:
        assert kpi.value is not None
        return KpiValue(kpi.key, kpi.value.evaluate(measures))
    assert kpi.numerator is not None
    assert kpi.denominator is not None
    numerator, denominator = kpi.numerator.evaluate(measures), kpi.denominator.evaluate(measures)
    assert numerator is not None
    assert denominator is not None
    if denominator <= 0:
        return KpiValue(kpi.key, None, numerator, denominator, reason="本月无可计算的数据")
    value = max(0.0, numerator / denominator)
    return KpiValue(kpi.key, value, numerator, denominator, score=points(kpi, value))


def points(kpi: Kpi, value: float) -> float | None:
    """Points of one KPI out of its weight; None for KPIs that are not scored."""
    if not kpi.weight or kpi.full_marks_at is None:
        return None
    if kpi.direction == "higher":
        return round(kpi.weight * min(1.0, value / kpi.full_marks_at), 2)
    zero = kpi.zero_marks_at
    assert zero is not None
    if value <= kpi.full_marks_at:
        return kpi.weight
    if value >= zero:
        return 0.0
    return round(kpi.weight * (zero - value) / (zero - kpi.full_marks_at), 2)


def total_score(kpis: tuple[Kpi, ...], values: dict[str, KpiValue]) -> float | None:
    """Points earned over the weights of the KPIs that apply, scaled to 100; None when none applies."""
    earned = weights = 0.0
    for kpi in kpis:
        value = values.get(kpi.key)
        if not kpi.weight or value is None or value.score is None:
            continue
        earned += value.score
        weights += kpi.weight
    if not weights:
        return None
    return round(earned / weights * 100, 1)


def ranks(scores: dict[int, float | None]) -> dict[int, int]:
    """Competition ranking (1, 2, 2, 4) of the departments that have a score."""
    ordered = sorted((s, d) for d, s in scores.items() if s is not None)
    ordered.reverse()
    result: dict[int, int] = {}
    previous: float | None = None
    rank = 0
    for position, (score, department_id) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        result[department_id] = rank
    return result


def is_below(value: KpiValue | None, threshold: float) -> bool:
    return value is not None and value.value is not None and value.value < threshold


def is_sudden_drop(current: int, previous: list[int], drop: float) -> bool:
    """The month's rows fell by more than `drop` against the average of the previous months that had rows."""
    reported = [p for p in previous if p > 0]
    if not reported:
        return False
    average = sum(reported) / len(reported)
    return current < average * (1 - drop)


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def display(kpi: Kpi, value: KpiValue) -> str:
    if value.value is None:
        return "—"
    if not kpi.is_rate:
        return f"{int(value.value)}"
    # Rates near zero (重错码率 is judged against 0.005 %) need more digits to be read at all.
    return percent(value.value, 4 if kpi.direction == "lower" else 1)
