"""The KPI definitions and warning rules: read from TOML and checked before any use.

Definitions are data (`kpis.toml`, or the file named by `XINYONG_MONITORING_CONFIG`): a KPI is written in terms
of measures that data sources provide. A source names its provider, one of the functions the monitoring service
registers; a source without a provider is declared but not connected yet (its domain not built), and its KPIs
show "—" with the reason until a provider is registered for it. A definition that names an unknown provider,
references an unknown measure, divides by a constant zero, or sets a threshold outside 0–100 % is refused when
the file is read, with the place named. Which optional fields count for 完整率 is the catalogue's to say
(`expected = true` on a field), not this file's."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from xinyong.errors import DomainError

DEFAULT_FILE = Path(__file__).parent / "kpis.toml"
KPI_KINDS = ("rate", "count")
DIRECTIONS = ("higher", "lower")
WARNING_KINDS = ("kpi-below", "repair-overdue", "reporting-drop", "government-listed")
MAX_EXPRESSION = 200
SECTIONS = frozenset({"sources", "kpis", "indicators", "warnings"})


class DefinitionError(DomainError):
    code = "monitoring-definition-invalid"
    status_code = 500
    message_template = "信用监测指标配置有误（{where}）：{reason}"


# ------------------------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Expression:
    """Measures joined by + and −, with non-negative integer constants: `records_new - records_late`."""

    text: str
    terms: tuple[tuple[int, str | int], ...]  # (sign, measure name or constant)

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.terms if isinstance(t, str))

    def evaluate(self, values: dict[str, int | None]) -> int | None:
        """None when a measure it needs is not available (its source is not connected)."""
        total = 0
        for sign, term in self.terms:
            value = values.get(term) if isinstance(term, str) else term
            if value is None:
                return None
            total += sign * value
        return total


def parse_expression(text: str, *, where: str) -> Expression:
    text = str(text).strip()
    if not text or len(text) > MAX_EXPRESSION:
        raise DefinitionError(where=where, reason="表达式为空或过长")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise DefinitionError(where=where, reason=f"无法解析表达式“{text}”") from None
    terms: list[tuple[int, str | int]] = []

    def walk(node: ast.expr, sign: int) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            walk(node.left, sign)
            walk(node.right, sign if isinstance(node.op, ast.Add) else -sign)
        elif isinstance(node, ast.Name):
            terms.append((sign, node.id))
        elif isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
            terms.append((sign, node.value))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)):
            raise DefinitionError(where=where, reason=f"“{text}”中不允许除法：比率由分子与分母分别给出")
        else:
            raise DefinitionError(where=where, reason=f"“{text}”只能由计量值名称、非负整数和 + − 组成")

    walk(tree, 1)
    return Expression(text=text, terms=tuple(terms))


# ------------------------------------------------------------------------------------------ definitions


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    provider: str | None  # a registered provider's name; None: declared, not connected yet
    measures: dict[str, str]  # name → Chinese description
    scope: str = "department"  # "department": per department; "city": the whole platform (政务诚信)


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    kind: str
    formula: str
    numerator: Expression | None = None
    denominator: Expression | None = None
    value: Expression | None = None
    weight: float = 0.0
    direction: str = "higher"
    full_marks_at: float | None = None
    zero_marks_at: float | None = None
    drilldown: str | None = None
    target: str | None = None  # the requirement in words ("零增长"), shown beside an indicator

    @property
    def is_rate(self) -> bool:
        return self.kind == "rate"

    @property
    def measures(self) -> tuple[str, ...]:
        parts = (self.numerator, self.denominator, self.value)
        return tuple(m for p in parts if p is not None for m in p.measures)


@dataclass(frozen=True)
class WarningRule:
    key: str
    kind: str
    title: str
    kpi: str | None = None
    threshold: float | None = None
    months: int = 3


@dataclass(frozen=True)
class Definitions:
    sources: tuple[Source, ...]
    kpis: tuple[Kpi, ...]
    warnings: tuple[WarningRule, ...]
    indicators: tuple[Kpi, ...] = ()  # city-wide (政务诚信), from sources of scope "city"; not scored

    def kpi(self, key: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.key == key:
                return kpi
        raise KeyError(key)

    @property
    def measure_labels(self) -> dict[str, str]:
        return {name: label for s in self.sources for name, label in s.measures.items()}

    def source_of(self, measure: str) -> Source:
        return next(s for s in self.sources if measure in s.measures)


def _text(raw: dict[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None:
        if required:
            raise DefinitionError(where=where, reason=f"缺少 {name}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(where=where, reason=f"{name} 须为非空文本")
    return value.strip()


def _fraction(raw: dict[str, Any], name: str, where: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DefinitionError(where=where, reason=f"{name} 须为数字")
    if not 0 <= value <= 1:
        raise DefinitionError(where=where, reason=f"{name} = {value} 超出 0–100%（请写 0–1 之间的比例，如 0.9）")
    return float(value)


def _source(raw: dict[str, Any], index: int, providers: Collection[str] | None) -> Source:
    where = f"sources 第 {index} 项"
    key = _text(raw, "key", where)
    provider = _text(raw, "provider", where, required=False)
    assert key
    if provider is not None and providers is not None and provider not in providers:
        raise DefinitionError(where=where, reason=f"未知的数据来源 provider “{provider}”（可用：{'、'.join(sorted(providers))}；"
                                                  "尚未建成的来源不写 provider）")
    measures = raw.get("measures")
    if not isinstance(measures, dict) or not measures:
        raise DefinitionError(where=where, reason="须列出至少一个计量值（measures）")
    for name, label in measures.items():
        if not name.isidentifier() or not isinstance(label, str):
            raise DefinitionError(where=where, reason=f"计量值“{name}”的名称或说明无效")
    scope = raw.get("scope", "department")
    if scope not in ("department", "city"):
        raise DefinitionError(where=where, reason="scope 须为 department 或 city")
    return Source(key=key, label=_text(raw, "label", where, required=False) or key, provider=provider, measures=dict(measures),
                  scope=scope)


def _kpi(raw: dict[str, Any], index: int, known: dict[str, str]) -> Kpi:
    where = f"kpis 第 {index} 项"
    key = _text(raw, "key", where)
    assert key
    where = f"指标 {key}"
    kind = raw.get("kind", "rate")
    if kind not in KPI_KINDS:
        raise DefinitionError(where=where, reason=f"kind 须为 {' 或 '.join(KPI_KINDS)}")
    direction = raw.get("direction", "higher")
    if direction not in DIRECTIONS:
        raise DefinitionError(where=where, reason="direction 须为 higher 或 lower")
    expressions: dict[str, Expression | None] = {"numerator": None, "denominator": None, "value": None}
    needed = ("numerator", "denominator") if kind == "rate" else ("value",)
    for name in needed:
        text = _text(raw, name, where)
        assert text
        expression = parse_expression(text, where=f"{where} 的 {name}")
        unknown = [m for m in expression.measures if m not in known]
        if unknown:
            raise DefinitionError(where=where, reason=f"{name} 引用了未定义的计量值：{'、'.join(unknown)}")
        expressions[name] = expression
    denominator = expressions["denominator"]
    if denominator is not None and not denominator.measures and denominator.evaluate({}) == 0:
        raise DefinitionError(where=where, reason=f"分母“{denominator.text}”恒为 0，指标无法计算")
    weight = raw.get("weight", 0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise DefinitionError(where=where, reason="weight 须为非负数")
    full_marks_at = _fraction(raw, "full_marks_at", where)
    zero_marks_at = _fraction(raw, "zero_marks_at", where)
    if weight and kind == "count":
        raise DefinitionError(where=where, reason="数量类指标不能计分（weight 须为 0）")
    if weight and full_marks_at is None:
        raise DefinitionError(where=where, reason="计分指标须给出 full_marks_at")
    if direction == "lower" and weight and (zero_marks_at is None or zero_marks_at <= (full_marks_at or 0)):
        raise DefinitionError(where=where, reason="越低越好的指标须给出大于 full_marks_at 的 zero_marks_at")
    if direction == "higher" and weight and full_marks_at == 0:
        raise DefinitionError(where=where, reason="full_marks_at 为 0 时无法按比例计分")
    return Kpi(
        key=key, name=_text(raw, "name", where) or key, kind=kind, formula=_text(raw, "formula", where) or "",
        numerator=expressions["numerator"], denominator=denominator, value=expressions["value"],
        weight=float(weight), direction=direction, full_marks_at=full_marks_at, zero_marks_at=zero_marks_at,
        drilldown=_text(raw, "drilldown", where, required=False), target=_text(raw, "target", where, required=False),
    )  # fmt: skip


def _warning(raw: dict[str, Any], index: int, kpis: dict[str, Kpi]) -> WarningRule:
    where = f"warnings 第 {index} 项"
    key = _text(raw, "key", where)
    kind = raw.get("kind")
    if kind not in WARNING_KINDS:
        raise DefinitionError(where=where, reason=f"kind 须为 {'、'.join(WARNING_KINDS)} 之一")
    threshold = _fraction(raw, "threshold", where)
    kpi = _text(raw, "kpi", where, required=False)
    if kind == "kpi-below":
        if kpi not in kpis or not kpis[kpi].is_rate:
            raise DefinitionError(where=where, reason=f"kpi “{kpi}” 不是已定义的比率指标")
        if threshold is None:
            raise DefinitionError(where=where, reason="须给出 threshold")
    if kind == "reporting-drop" and threshold is None:
        raise DefinitionError(where=where, reason="须给出 threshold（下降比例）")
    months = raw.get("months", 3)
    if not isinstance(months, int) or not 1 <= months <= 12:
        raise DefinitionError(where=where, reason="months 须为 1–12 的整数")
    assert key
    return WarningRule(key=key, kind=kind, title=_text(raw, "title", where) or key, kpi=kpi, threshold=threshold,
                       months=months)  # fmt: skip


def parse_definitions(data: dict[str, Any], *, providers: Collection[str] | None = None) -> Definitions:
    """The definitions in `data`; `providers` are the provider names that exist (None: not checked)."""
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        raise DefinitionError(where="文件", reason=f"未知的配置项：{'、'.join(unknown)}（可用：{'、'.join(sorted(SECTIONS))}）")
    sources = tuple(_source(raw, i, providers) for i, raw in enumerate(data.get("sources", []), start=1))
    known: dict[str, dict[str, str]] = {"department": {}, "city": {}}
    for source in sources:
        for name in source.measures:
            if any(name in measures for measures in known.values()):
                raise DefinitionError(where=f"数据来源 {source.key}", reason=f"计量值“{name}”已由其他来源提供")
            known[source.scope][name] = source.key
    kpis: dict[str, Kpi] = {}
    for i, raw in enumerate(data.get("kpis", []), start=1):
        kpi = _kpi(raw, i, known["department"])
        if kpi.key in kpis:
            raise DefinitionError(where=f"指标 {kpi.key}", reason="key 重复")
        kpis[kpi.key] = kpi
    if not kpis:
        raise DefinitionError(where="kpis", reason="至少须定义一个指标")
    indicators = []
    for i, raw in enumerate(data.get("indicators", []), start=1):
        indicator = _kpi(raw, i, known["city"])
        if indicator.weight:
            raise DefinitionError(where=f"指标 {indicator.key}", reason="全市指标不计分（weight 须为 0）")
        indicators.append(indicator)
    warnings = tuple(_warning(raw, i, kpis) for i, raw in enumerate(data.get("warnings", []), start=1))
    return Definitions(sources=sources, kpis=tuple(kpis.values()), warnings=warnings, indicators=tuple(indicators))


def read_definitions(path: Path, *, providers: Collection[str] | None = None) -> Definitions:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(where=path.name, reason=f"无法读取：{exc}") from None
    return parse_definitions(data, providers=providers)


@lru_cache(maxsize=8)
def load_definitions(path: Path | None = None, providers: frozenset[str] | None = None) -> Definitions:
    return read_definitions(path or DEFAULT_FILE, providers=providers)
