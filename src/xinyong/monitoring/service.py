"""Department assessment: the KPIs of each department and month, their score and rank, the rows behind each
figure, the trend, and the warning rules run over them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.alerts import service as alerts
from xinyong.alerts.models import Alert
from xinyong.calendar.rules import WorkdayCalendar
from xinyong.calendar.service import load_calendar
from xinyong.clock import today as china_today
from xinyong.commitments import measures as commitment_measures
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.intake import service as intake_service
from xinyong.integrity import service as integrity_service
from xinyong.monitoring import quality, rules, sources
from xinyong.monitoring.definitions import Definitions, Kpi, Source, load_definitions
from xinyong.monitoring.rules import KpiValue, Month
from xinyong.records.models import Batch, BatchProblem, Severity
from xinyong.regions import service as regions_service

CITY = regions_service.CITY_TOTAL


# The data sources `kpis.toml` may name, by provider name. Another domain provides its measures from its own
# service (政务诚信: `integrity.service.indicator_measures`, 部门目录清单: `intake.service.catalogue_measures`, 信用承诺:
# `commitments.measures.monitoring_measures`); a source whose domain is not built yet is declared in the file
# without a provider, and its KPIs show "—" until then.
Provider = Callable[..., dict[int | None, dict[str, int]]]
PROVIDERS: dict[str, Provider] = {
    "reporting": sources.reporting, "timeliness": sources.timeliness, "completeness": sources.completeness,
    "quality": sources.quality, "repairs": sources.repairs, "objections": sources.objections,
    "checks": sources.checks, "integrity": integrity_service.indicator_measures,
    "department-catalogue": intake_service.catalogue_measures, "commitments": commitment_measures.monitoring_measures,
}  # fmt: skip


def definitions(settings: Settings) -> Definitions:
    return load_definitions(settings.monitoring_config, frozenset(PROVIDERS))


def not_connected(source: Source) -> str:
    return f"数据来源“{source.label}”尚未接入"


@dataclass
class DepartmentMonth:
    department: Department
    measures: dict[str, int | None]
    values: dict[str, KpiValue]
    score: float | None = None
    rank: int | None = None
    alerts: list[Any] = field(default_factory=list)

    @property
    def has_rows(self) -> bool:
        return bool(self.measures.get("rows_submitted"))


@dataclass
class MonthResult:
    month: Month
    definitions: Definitions
    departments: list[DepartmentMonth]
    city: DepartmentMonth | None  # measures summed over every department: the platform's own rates
    indicators: dict[str, KpiValue]
    unavailable: dict[str, str]  # measure → why it is "—"
    regions: list[RegionTotal] = field(default_factory=list)  # per county (city users), own county (a county's)
    indicators_of: str = "全市"  # whose 政务诚信 indicators: the city's, or a county's

    def row(self, department_id: int) -> DepartmentMonth:
        for row in self.departments:
            if row.department.id == department_id:
                return row
        raise NotFound(what="该部门的考核结果")


@dataclass
class Gathered:
    """The measures of one scope for a month: per department (None: the city), the values a department without
    a row in any source has (zeros for connected sources: its rates are "—", never missing), and why the
    measures of unconnected sources are missing."""

    measures: dict[int | None, dict[str, int | None]]
    blank: dict[str, int | None]
    unavailable: dict[str, str]

    def of(self, key: int | None) -> dict[str, int | None]:
        return self.measures.get(key, dict(self.blank))


class Calendars:
    """Each department's working-day calendar: its region's (the platform's days corrected by the county's local
    days), the region it was in when the object counted was made; loaded once per region."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[str | None, WorkdayCalendar] = {}
        self._timelines: dict[int, departments_service.RegionTimeline] = {}

    def __call__(self, department_id: int | None, at: datetime | None = None) -> WorkdayCalendar:
        region = None
        if department_id is not None:
            if department_id not in self._timelines:
                self._timelines[department_id] = departments_service.region_timeline(self._session, department_id)
            region = self._timelines[department_id].at(at)
        if region not in self._loaded:
            self._loaded[region] = load_calendar(self._session, region=region)
        return self._loaded[region]


def _gather(session: Session, defs: Definitions, *, scope: str, month: Month, settings: Settings,
            today: date, regions: frozenset[str] | None = None) -> Gathered:  # fmt: skip
    calendars = Calendars(session)
    measures: dict[int | None, dict[str, int | None]] = {}
    unavailable: dict[str, str] = {}
    available: list[str] = []
    for source in defs.sources:
        if source.scope != scope:
            continue
        if source.provider is None:
            unavailable.update(dict.fromkeys(source.measures, not_connected(source)))
            continue
        available.extend(source.measures)
        # City-level sources (政务诚信) count what lies in `regions` (None: everywhere).
        extra = {"regions": regions} if scope == "city" else {}
        found = PROVIDERS[source.provider](session, start=month.start, end=month.end, today=today, settings=settings,
                                           definitions=defs, calendars=calendars, **extra)  # fmt: skip
        for key, counts in found.items():
            target = measures.setdefault(key, {})
            for name in source.measures:
                target[name] = int(counts.get(name, 0) or 0)
    blank: dict[str, int | None] = {**dict.fromkeys(available, 0), **dict.fromkeys(unavailable)}
    for values in measures.values():
        for name in available:
            values.setdefault(name, 0)
        for name in unavailable:
            values[name] = None
    return Gathered(measures, blank, unavailable)


def _values(kpis: tuple[Kpi, ...], measures: dict[str, int | None], unavailable: dict[str, str]) -> dict[str, KpiValue]:
    return {kpi.key: rules.kpi_value(kpi, measures, unavailable) for kpi in kpis}


def departments_for(session: Session, actor: Actor | None, department_id: int | None = None,
                    region: str | None = None) -> list[Department]:  # fmt: skip
    """The departments the actor's tables show: its own (bound), those of its region (a county 信用办) or all;
    narrowed to one department, or to one region and the regions under it (the region filter)."""
    query = select(Department).order_by(Department.code)
    if actor is not None:
        clause = actor.reach(Department.id)
        if clause is not None:
            query = query.where(clause)
    if department_id is not None:
        query = query.where(Department.id == department_id)
    if region is not None:
        query = query.where(Department.region.in_(sorted(regions_service.tree(session).subtree(region))))
    found = list(session.scalars(query))
    if department_id is not None and not found:
        raise NotFound(what="该部门")
    return found


@dataclass
class RegionTotal:
    """One region's (a county's, or the city's own departments') month: its departments' measures summed."""

    code: str
    name: str
    row: DepartmentMonth
    departments: int


def region_choices(session: Session, actor: Actor | None) -> list[tuple[str, str]]:
    """The regions a city-level user may narrow the tables to (the filter): every registered region under the
    actor's own; none for a county's or a department's user, nor on a one-region install."""
    current = regions_service.tree(session)
    if not current.is_multi or (actor is not None and actor.is_department_bound):
        return []
    anchor = (actor.region if actor is not None else None) or (current.root.code if current.root else None)
    if anchor is None:
        return []
    codes = current.subtree(anchor)
    return [(node.code, node.name) for _depth, node in current.walk() if node.code in codes and node.code != anchor]


def check_region(session: Session, actor: Actor | None, region: str | None) -> str | None:
    """The region filter's value, if the actor may use it: another county's, or an unknown, code is not found."""
    region = "".join((region or "").split())[:12] or None
    if region is None:
        return None
    if region not in {code for code, _name in region_choices(session, actor)}:
        raise NotFound(what=f"行政区划 {region}")
    return region


def _sum_rows(defs: Definitions, rows: list[DepartmentMonth], blank: dict[str, int | None],
              unavailable: dict[str, str], name: str) -> DepartmentMonth:  # fmt: skip
    measures: dict[str, int | None] = dict(blank)
    for key in measures:
        if key not in unavailable:
            measures[key] = sum(int(r.measures.get(key) or 0) for r in rows)
    values = _values(defs.kpis, measures, unavailable)
    total = DepartmentMonth(Department(id=0, code="", name=name), measures, values)
    total.score = rules.total_score(defs.kpis, values)
    return total


def _region_totals(session: Session, defs: Definitions, actor: Actor | None, rows: list[DepartmentMonth],
                   blank: dict[str, int | None], unavailable: dict[str, str], *,
                   narrowed: bool = False) -> list[RegionTotal]:  # fmt: skip
    """One row per region directly under the actor's own (a city: its counties; the city's own departments as
    "本级"); a county's 信用办 gets its county's row only. Grouped by where each department is now."""
    current = regions_service.tree(session)
    if not current.is_multi or (actor is not None and actor.is_department_bound):
        return []
    anchor = (actor.region if actor is not None else None) or (current.root.code if current.root else None)
    if anchor is None or current.get(anchor) is None:
        return []
    lines = current.breakdown(anchor)
    groups: dict[str, list[DepartmentMonth]] = {}
    for row in rows:
        groups.setdefault(current.group_of(lines, row.department.region).code, []).append(row)
    totals = []
    for line in lines:
        if line.code not in groups and (line.is_own or narrowed):
            continue
        members = groups.get(line.code, [])
        totals.append(RegionTotal(line.code, line.name, _sum_rows(defs, members, blank, unavailable, line.name),
                                  len(members)))
    return totals


def scope_title(session: Session, actor: Actor | None, region: str | None = None) -> str:
    """The total row's name: 全市合计, or the county's ("德清县合计") for a county's 信用办 or a chosen county."""
    code = region or (actor.region if actor is not None and not actor.is_department_bound else None)
    return regions_service.tree(session).total_name(code)


def compute_month(
    session: Session, *, month: Month, settings: Settings, today: date, actor: Actor | None = None,
    department_id: int | None = None, region: str | None = None,
) -> MonthResult:  # fmt: skip
    """Every department's KPIs for the month, within the actor's scope (a bound actor: their own department; a
    county's 信用办: its county's departments), optionally narrowed to one region. Scores are ranked among the
    departments of the actor's region (all of them for the city and for a bound actor); the total row sums the
    departments shown, and `regions` sums them per county."""
    defs = definitions(settings)
    gathered = _gather(session, defs, scope="department", month=month, settings=settings, today=today)
    measures, unavailable = gathered.measures, gathered.unavailable
    pool = departments_for(session, actor if actor is not None and not actor.is_department_bound else None)
    rows = []
    for department in pool:
        if not department.is_active and department.id not in measures:
            continue
        values = gathered.of(department.id)
        row = DepartmentMonth(department, values, _values(defs.kpis, values, unavailable))
        row.score = rules.total_score(defs.kpis, row.values)
        rows.append(row)
    ranking = rules.ranks({row.department.id: row.score for row in rows})
    for row in rows:
        row.rank = ranking.get(row.department.id)
    shown = departments_for(session, actor, department_id, region)
    visible = {d.id for d in shown}
    in_scope = [row for row in rows if region is None or row.department.id in visible]
    total = _sum_rows(defs, in_scope, gathered.blank, unavailable, scope_title(session, actor, region))
    codes = integrity_service.region_codes(session, actor)
    if region is not None:
        codes = regions_service.tree(session).subtree(region)
    city_level = _gather(session, defs, scope="city", month=month, settings=settings, today=today, regions=codes)
    named = region or (actor.region if actor is not None and codes is not None else None)
    node = regions_service.tree(session).get(named)
    indicators_of = node.name if node is not None else "全市"
    indicators = _values(defs.indicators, city_level.of(None), city_level.unavailable)
    regions = _region_totals(session, defs, actor, in_scope, gathered.blank, unavailable, narrowed=region is not None)
    rows = [row for row in rows if row.department.id in visible]
    # Other departments' figures are not a bound user's to read, not even summed.
    city = None if actor is not None and actor.is_department_bound else total
    return MonthResult(month, defs, rows, city, indicators, {**unavailable, **city_level.unavailable}, regions,
                       indicators_of)  # fmt: skip


def trend(session: Session, *, month: Month, settings: Settings, today: date, actor: Actor | None,
          department_id: int | None, months: int = 12, region: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The rates of the `months` months up to `month`, for the charts: one department's, or the total over the
    actor's scope (the city's, a county's)."""
    labels: list[str] = []
    series: dict[str, list[float | None]] = {}
    defs = definitions(settings)
    for back in range(months - 1, -1, -1):
        current = month.previous(back)
        result = compute_month(session, month=current, settings=settings, today=today, actor=actor,
                               department_id=department_id, region=region)  # fmt: skip
        if department_id is not None or (actor is not None and actor.is_department_bound):
            row = result.departments[0] if result.departments else None
        else:
            row = result.city
        labels.append(str(current))
        for kpi in defs.kpis:
            value = row.values[kpi.key].value if row is not None else None
            series.setdefault(kpi.key, []).append(None if value is None else round(value * 100, 2) if kpi.is_rate else value)
        series.setdefault("score", []).append(row.score if row is not None else None)
    names = {kpi.key: kpi.name for kpi in defs.kpis}
    names["score"] = "总分"
    return {"labels": labels, "series": series, "names": names,
            "rates": [k.key for k in defs.kpis if k.is_rate], "counts": [k.key for k in defs.kpis if not k.is_rate]}  # fmt: skip


def drilldown(session: Session, *, month: Month, department_id: int, kind: str, settings: Settings,
              actor: Actor, today: date | None = None) -> sources.Drilldown:  # fmt: skip
    """The rows behind a figure; `today` (Beijing's by default) tells an open task still in time from an overdue one."""
    if kind not in sources.DRILLDOWNS:
        raise NotFound(what=f"明细“{kind[:20]}”")
    if not actor.can_reach(department_id):
        raise NotFound(what="该部门的考核明细")
    departments_for(session, None, department_id)
    return sources.DRILLDOWNS[kind](session, department_id, month.start, month.end, settings=settings,
                                    definitions=definitions(settings), calendars=Calendars(session),
                                    today=today or china_today())  # fmt: skip


def to_json(result: MonthResult, *, base_url: str = "") -> dict[str, Any]:
    """The month as `xinyong monitoring kpis --json` prints it; each figure names the page of its rows."""
    defs = result.definitions

    def figures(row: DepartmentMonth) -> dict[str, Any]:
        out = {}
        for kpi in defs.kpis:
            value = row.values[kpi.key]
            entry: dict[str, Any] = {"name": kpi.name, "value": value.value, "display": rules.display(kpi, value),
                                     "numerator": value.numerator, "denominator": value.denominator,
                                     "score": value.score, "formula": kpi.formula}  # fmt: skip
            if value.reason:
                entry["not_applicable"] = value.reason
            if kpi.drilldown and row.department.id:
                entry["rows_url"] = f"{base_url}/admin/monitoring/{result.month}/departments/{row.department.id}/{kpi.drilldown}"
            out[kpi.key] = entry
        return out

    document: dict[str, Any] = {
        "month": str(result.month),
        "departments": [{"code": r.department.code, "name": r.department.name, "score": r.score, "rank": r.rank,
                         "kpis": figures(r)} for r in result.departments],
        "indicators": {i.key: {"name": i.name, "value": result.indicators[i.key].value,
                               "display": rules.display(i, result.indicators[i.key]), "target": i.target}
                       for i in defs.indicators},
    }
    if result.city is not None:
        document["city"] = {"score": result.city.score, "kpis": figures(result.city)}
    if result.regions:
        document["regions"] = [{"code": t.code, "name": t.name, "departments": t.departments, "score": t.row.score,
                                "kpis": figures(t.row)} for t in result.regions]  # fmt: skip
    return document


# ------------------------------------------------------------------------------------------- warnings


@dataclass
class WarningRun:
    raised: int = 0
    resolved: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MonthFigures:
    """What the warning rules judge: the month's figures and those of the months before it that a rule compares
    them with (the newest first)."""

    month: Month
    current: MonthResult
    previous: list[MonthResult]


def month_figures(session: Session, *, month: Month, settings: Settings, today: date) -> MonthFigures:
    """The figures `evaluate_warnings` judges. Reads only (every department's batches and records of each month),
    so that a caller can compute them before it takes the write lock, which an import waits for meanwhile."""
    back = max((r.months for r in definitions(settings).warnings if r.kind == "reporting-drop"), default=0)
    return MonthFigures(month, compute_month(session, month=month, settings=settings, today=today),
                        [compute_month(session, month=month.previous(n), settings=settings, today=today)
                         for n in range(1, back + 1)])  # fmt: skip


def evaluate_warnings(session: Session, *, month: Month, settings: Settings, today: date, actor: Actor | str,
                      figures: MonthFigures | None = None) -> WarningRun:  # fmt: skip
    """Run every warning rule for the month: raise what holds (once per condition), resolve what ended. The
    month's figures are `figures` when given (computed before, see `month_figures`), else computed here."""
    defs = definitions(settings)
    if figures is None:
        figures = month_figures(session, month=month, settings=settings, today=today)
    if figures.month != month:
        raise ValueError(f"figures of {figures.month} given for {month}")
    result = figures.current
    run = WarningRun()

    def raised(rule: str, alert: object) -> None:
        if alert is not None:
            run.raised += 1
            run.by_rule[rule] = run.by_rule.get(rule, 0) + 1

    for rule in defs.warnings:
        if rule.kind == "kpi-below":
            assert rule.kpi
            assert rule.threshold is not None
            kpi = defs.kpi(rule.kpi)
            holding = []
            for row in result.departments:
                value = row.values[kpi.key]
                if not rules.is_below(value, rule.threshold):
                    continue
                key = f"department:{row.department.id}:{month}"
                holding.append(key)
                raised(rule.key, alerts.raise_alert(
                    session, rule=rule.key, key=key, department_id=row.department.id, month=str(month), actor=actor,
                    title=f"{rule.title}：{row.department.name}（{month}）",
                    body=(f"{month} {kpi.name} {rules.display(kpi, value)}（{value.numerator}/{value.denominator}），"
                          f"低于 {rules.percent(rule.threshold)}。{kpi.formula}"),
                    link=f"/admin/monitoring/{month}/departments/{row.department.id}/{kpi.drilldown or 'batches'}",
                ))  # fmt: skip
            run.resolved += _resolve_month(session, rule.key, month, holding, actor)
        elif rule.kind == "reporting-drop":
            assert rule.threshold is not None
            previous = figures.previous[: rule.months]
            holding = []
            for row in result.departments:
                before = [int(p.row(row.department.id).measures.get("rows_submitted") or 0)
                          for p in previous if any(r.department.id == row.department.id for r in p.departments)]  # fmt: skip
                current = int(row.measures.get("rows_submitted") or 0)
                if not rules.is_sudden_drop(current, before, rule.threshold):
                    continue
                key = f"department:{row.department.id}:{month}"
                holding.append(key)
                average = sum(b for b in before if b) / max(1, len([b for b in before if b]))
                raised(rule.key, alerts.raise_alert(
                    session, rule=rule.key, key=key, department_id=row.department.id, month=str(month), actor=actor,
                    title=f"{rule.title}：{row.department.name}（{month}）",
                    body=f"{month} 报送 {current} 行，前 {rule.months} 个月平均 {average:.0f} 行，下降超过 {rules.percent(rule.threshold)}。",
                    link=f"/admin/monitoring/{month}/departments/{row.department.id}/batches",
                ))  # fmt: skip
            run.resolved += _resolve_month(session, rule.key, month, holding, actor)
        elif rule.kind == "repair-overdue":
            holding = []
            for application in sources.overdue_repairs(session, today=today):
                key = f"repair:{application.id}"
                holding.append(key)
                raised(rule.key, alerts.raise_alert(
                    session, rule=rule.key, key=key, department_id=application.department_id, actor=actor,
                    title=f"{rule.title}：{application.number}",
                    body=f"信用修复申请 {application.number} 的部门审核期限为 {application.department_due}，至今未作出决定。",
                    link=f"/admin/repairs/{application.id}",
                ))  # fmt: skip
            run.resolved += alerts.resolve_ended(session, rule=rule.key, still_true=holding, actor=actor)
        elif rule.kind == "government-listed":
            created = integrity_service.sync_listings(session, settings=settings, today=today, actor=actor)
            if created:
                run.raised += len(created)
                run.by_rule[rule.key] = run.by_rule.get(rule.key, 0) + len(created)
    return run


def _resolve_month(session: Session, rule: str, month: Month, holding: list[str], actor: Actor | str) -> int:
    """Monthly conditions are judged again for the same month only: an earlier month's warning stays until it is
    acknowledged, or the 信用办 resolves it."""
    ended = 0
    for alert in alerts.list_alerts_of_rule(session, rule, month=str(month)):
        if alert.key not in holding:
            ended += int(alerts.resolve_key(session, rule=rule, key=alert.key, actor=actor,
                                            note="重新计算后已不满足预警条件，系统自动解除"))  # fmt: skip
    return ended


def is_city_level(session: Session, actor: Actor) -> bool:
    root = regions_service.tree(session).root
    return actor.scope is None or (root is not None and actor.region == root.code)


def ensure_city_level(session: Session, actor: Actor) -> None:
    """Platform-wide runs (the warning rules, the 重错码 scan) are the city's 信用办's: their counts span every
    county."""
    if not is_city_level(session, actor):
        raise PermissionDenied("该操作涉及全市数据，请由市级信用办执行")


def first_month(session: Session) -> Month | None:
    """The month of the first batch ever reported: there is nothing to assess before it."""
    first = session.scalar(select(func.min(Batch.reported_on)))
    return Month.of(first) if first is not None else None


def parse_month(text: str | None, *, today: date) -> Month:
    if text is None or not text.strip():
        return Month.of(today)
    return Month.parse(text, today=today)


def parse_department(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    department = session.scalar(select(Department).where(Department.code == code.strip().upper()))
    if department is None:
        raise InvalidInput(reason=f"没有代码为“{code[:20]}”的部门")
    return department.id


# -------------------------------------------------------------------------------------------- the report


def report_data(session: Session, *, month: Month, settings: Settings, today: date, actor: Actor | None = None,
                region: str | None = None) -> Any:  # fmt: skip
    """Everything the monthly report shows, in one structure (see report.py), over the actor's scope."""
    result = compute_month(session, month=month, settings=settings, today=today, actor=actor, region=region)
    department_ids = [row.department.id for row in result.departments]
    problems: dict[int, list[tuple[str, int]]] = {}
    for department_id, code, count in session.execute(
        select(Batch.department_id, BatchProblem.code, func.count())
        .join(Batch, Batch.id == BatchProblem.batch_id)
        .where(Batch.reported_on >= month.start, Batch.reported_on <= month.end,
               BatchProblem.severity == Severity.ERROR, Batch.department_id.in_(department_ids))
        .group_by(Batch.department_id, BatchProblem.code)
        .order_by(func.count().desc())
    ):  # fmt: skip
        problems.setdefault(department_id, []).append((code, int(count)))
    month_alerts: dict[int, list[Any]] = {}
    low, high = sources._utc_bounds(month.start, month.end)
    for alert in session.scalars(select(Alert).where(or_(Alert.month == str(month),
                                                         and_(Alert.created_at >= low, Alert.created_at <= high)))
                                 .order_by(Alert.id)):  # fmt: skip
        if alert.department_id in department_ids:
            month_alerts.setdefault(alert.department_id, []).append(alert)
    if actor is not None and actor.is_department_bound:
        issues, board = [], []
    else:
        issues = quality.list_issues(session, status="unresolved", actor=actor)
        board = integrity_service.board(session, settings=settings, today=today, actor=actor)
    # The workbook and PDF engines (openpyxl, reportlab: 30 MB) load with the report only, not with every command
    # and import process that imports this module.
    from xinyong.monitoring import report

    return report.ReportData(
        result=result, trend=trend(session, month=month, settings=settings, today=today, actor=actor,
                                   department_id=None, months=6, region=region),
        alerts=month_alerts, problems=problems, quality=issues, board=board,
    )  # fmt: skip
