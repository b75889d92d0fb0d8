"""The built-in data sources of the KPIs, and the rows behind each figure.

A source is a function `(session, *, start, end, today, settings, definitions, calendars) -> {department id:
{measure: count}}` over one month (dates in Beijing time, inclusive). It reads what the other domains store: the
batches and their problems, the records (timeliness is `records.is_late`, decided at ingestion from the working-day
calendar of the department's region — not worked out again here), repairs, objections, credit checks and the 重错码
findings. `calendars(department_id, at)` is the calendar of the region a department was in at `at`, for whatever
counts working days. The sources other domains provide (部门目录清单, 信用承诺) are registered in the monitoring
service; the rows behind their figures are listed here too, from those domains' own queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from xinyong.catalog import load_catalog
from xinyong.checks.models import CheckFeedback, CreditCheck
from xinyong.clock import CHINA
from xinyong.commitments import measures as commitment_measures
from xinyong.commitments.models import TaskStatus
from xinyong.config import Settings
from xinyong.intake import rules as intake_rules
from xinyong.intake import service as intake_service
from xinyong.monitoring.models import QualityIssue
from xinyong.objections.models import Objection
from xinyong.records.models import Batch, BatchProblem, BatchSource, BatchStatus, Record, Severity
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.subjects.models import Subject

Measures = dict[int | None, dict[str, int]]
# Batches that read rows: a file refused whole (failed) read none, and a run still going is not counted yet.
COUNTED = (BatchStatus.COMPLETED, BatchStatus.INCOMPLETE)
# Warnings that say nothing about the data's quality: a late report is counted by 及时率 already.
NOT_QUALITY_WARNINGS = ("late-report",)
DRILLDOWN_LIMIT = 1000


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The month's dates in Beijing time as a half-open range of instants."""
    return datetime.combine(start, time(), CHINA), datetime.combine(end, time.max, CHINA)


def _month_batches(start: date, end: date):  # type: ignore[no-untyped-def]
    return and_(Batch.reported_on >= start, Batch.reported_on <= end, Batch.status.in_(COUNTED))


def _flagged_rows(start: date, end: date):  # type: ignore[no-untyped-def]
    """(batch, row) pairs accepted with a data-quality warning: a warning and no error on the same row."""
    errors = aliased(BatchProblem)
    return (
        select(BatchProblem.batch_id, BatchProblem.row, Batch.department_id)
        .join(Batch, Batch.id == BatchProblem.batch_id)
        .where(_month_batches(start, end), BatchProblem.severity == Severity.WARNING, BatchProblem.row > 0,
               BatchProblem.code.not_in(NOT_QUALITY_WARNINGS),
               ~exists().where(errors.batch_id == BatchProblem.batch_id, errors.row == BatchProblem.row,
                               errors.severity == Severity.ERROR))
        .distinct()
    )  # fmt: skip


def reporting(session: Session, *, start: date, end: date, **_: Any) -> Measures:
    result: Measures = {}
    rows = session.execute(
        select(
            Batch.department_id, func.sum(Batch.rows_read), func.sum(Batch.created + Batch.updated + Batch.unchanged),
            func.sum(Batch.rejected), func.sum(case((Batch.source == BatchSource.API, Batch.rows_read), else_=0)),
        ).where(_month_batches(start, end)).group_by(Batch.department_id)
    )  # fmt: skip
    for department_id, submitted, accepted, rejected, realtime in rows:
        result[department_id] = {"rows_submitted": int(submitted or 0), "rows_accepted": int(accepted or 0),
                                 "rows_rejected": int(rejected or 0), "rows_realtime": int(realtime or 0),
                                 "rows_flagged": 0}  # fmt: skip
    flagged = _flagged_rows(start, end).subquery()
    for department_id, count in session.execute(
        select(flagged.c.department_id, func.count()).group_by(flagged.c.department_id)
    ):
        result.setdefault(department_id, {})["rows_flagged"] = int(count)
    return result


def timeliness(session: Session, *, start: date, end: date, **_: Any) -> Measures:
    """Decisions first reported this month, and how many of them after their deadline (`is_late`)."""
    rows = session.execute(
        select(Record.department_id, func.count(), func.sum(case((Record.is_late.is_(True), 1), else_=0)))
        .where(Record.reported_on >= start, Record.reported_on <= end)
        .group_by(Record.department_id)
    )  # fmt: skip
    return {d: {"records_new": int(n), "records_late": int(late or 0)} for d, n, late in rows}


def _is_filled(value: object) -> bool:
    return value is not None and str(value).strip() != ""


def expected_fields(settings: Settings) -> dict[str, tuple[str, ...]]:
    """Per record type, the optional fields the catalogue expects departments to fill (`expected = true`)."""
    catalog = load_catalog(settings.catalog_dirs)
    return {key: tuple(f.code for f in rtype.expected_fields)
            for key, rtype in catalog.types.items() if rtype.expected_fields}  # fmt: skip


def completeness(session: Session, *, start: date, end: date, settings: Settings, **_: Any) -> Measures:
    result: dict[int | None, dict[str, int]] = defaultdict(lambda: {"fields_expected": 0, "fields_filled": 0})
    for record_type, codes in expected_fields(settings).items():
        query = (select(Record.department_id, Record.payload)
                 .where(Record.record_type == record_type, Record.reported_on >= start, Record.reported_on <= end)
                 .execution_options(yield_per=2000))  # fmt: skip
        for department_id, payload in session.execute(query):
            counts = result[department_id]
            counts["fields_expected"] += len(codes)
            counts["fields_filled"] += sum(1 for code in codes if _is_filled(payload.get(code)))
    return dict(result)


def unresolved_at(issue: QualityIssue, moment: datetime) -> bool:
    detected = issue.detected_at
    return detected <= moment and (issue.resolved_at is None or issue.resolved_at > moment)


def quality(session: Session, *, end: date, **_: Any) -> Measures:
    """重错码 findings still unresolved at the month's end, counted against the departments whose rows caused
    them, over the subjects with a code those departments had reported by then."""
    moment = _utc_bounds(end, end)[1]
    affected: dict[int, set[int]] = defaultdict(set)
    for issue in session.scalars(select(QualityIssue)):
        if unresolved_at(issue, moment):
            for department_id in issue.department_ids:
                affected[department_id].update(issue.subject_ids)
    result: Measures = {}
    rows = session.execute(
        select(Record.department_id, func.count(distinct(Record.subject_id)))
        .join(Subject, Subject.id == Record.subject_id)
        .where(Record.reported_on <= end, Subject.uscc.is_not(None))
        .group_by(Record.department_id)
    )  # fmt: skip
    for department_id, subjects in rows:
        result[department_id] = {"dq_subjects": int(subjects), "dq_affected": len(affected.get(department_id, ()))}
    return result


def repairs(session: Session, *, start: date, end: date, **_: Any) -> Measures:
    on_time = and_(RepairApplication.decided_on.is_not(None),
                   RepairApplication.decided_on <= RepairApplication.department_due)  # fmt: skip
    rows = session.execute(
        select(RepairApplication.department_id, func.count(), func.sum(case((on_time, 1), else_=0)))
        .where(RepairApplication.department_due >= start, RepairApplication.department_due <= end)
        .group_by(RepairApplication.department_id)
    )  # fmt: skip
    return {d: {"repairs_due": int(n), "repairs_on_time": int(ok or 0)} for d, n, ok in rows}


def objections(session: Session, *, start: date, end: date, **_: Any) -> Measures:
    on_time = and_(Objection.decided_on.is_not(None), Objection.decided_on <= Objection.due_on)
    rows = session.execute(
        select(Objection.department_id, func.count(), func.sum(case((on_time, 1), else_=0)))
        .where(Objection.due_on >= start, Objection.due_on <= end)
        .group_by(Objection.department_id)
    )  # fmt: skip
    return {d: {"objections_due": int(n), "objections_on_time": int(ok or 0)} for d, n, ok in rows}


def checks(session: Session, *, start: date, end: date, **_: Any) -> Measures:
    low, high = _utc_bounds(start, end)
    fed_back = exists().where(CheckFeedback.check_id == CreditCheck.id)
    rows = session.execute(
        select(CreditCheck.department_id, func.count(), func.sum(case((fed_back, 1), else_=0)))
        .where(CreditCheck.is_hit.is_(True), CreditCheck.created_at >= low, CreditCheck.created_at <= high,
               CreditCheck.department_id.is_not(None))
        .group_by(CreditCheck.department_id)
    )  # fmt: skip
    return {d: {"checks_hit": int(n), "checks_fed_back": int(ok or 0)} for d, n, ok in rows}


# ----------------------------------------------------------------------------------- rows behind a figure


@dataclass
class Drilldown:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    total: int = 0

    def add(self, cells: list[object], link: str | None = None) -> None:
        self.total += 1
        if len(self.rows) < DRILLDOWN_LIMIT:
            self.rows.append(["" if c is None else str(c) for c in cells])
            self.links.append(link)


def _rejected(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    out = Drilldown("退回的数据行（错误代码与原因）", ["批次", "行号", "字段", "问题代码", "值", "原因"])
    query = (select(BatchProblem).join(Batch, Batch.id == BatchProblem.batch_id)
             .where(_month_batches(start, end), Batch.department_id == department_id,
                    BatchProblem.severity == Severity.ERROR)
             .order_by(BatchProblem.batch_id, BatchProblem.row, BatchProblem.id))  # fmt: skip
    for p in session.scalars(query):
        out.add([p.batch_id, p.row or "整个文件", p.column, p.code, p.value, p.message], f"/admin/batches/{p.batch_id}")
    return out


def _late(session: Session, department_id: int, start: date, end: date, **kwargs: Any) -> Drilldown:
    calendars = kwargs["calendars"]  # each record's lateness in the working days of its department's region
    names = {key: rtype.name for key, rtype in load_catalog(kwargs["settings"].catalog_dirs).types.items()}
    out = Drilldown("迟报的记录（超过决定日期后第 7 个工作日报送）",
                    ["信息类型", "决定文书号", "主体名称", "决定日期", "报送期限", "报送日期", "逾期工作日", "批次"])  # fmt: skip
    query = (select(Record).where(Record.department_id == department_id, Record.reported_on >= start,
                                  Record.reported_on <= end, Record.is_late.is_(True))
             .order_by(Record.reported_on, Record.id))  # fmt: skip
    for r in session.scalars(query):
        out.add([names.get(r.record_type, r.record_type), r.doc_no, r.subject_name, r.decision_date, r.deadline, r.reported_on,
                 calendars(r.department_id, r.created_at).workdays_between(r.deadline, r.reported_on), r.batch_id],
                f"/admin/batches/{r.batch_id}" if r.batch_id else None)  # fmt: skip
    return out


def _flagged(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    out = Drilldown("带数据质量警告而接收的行", ["批次", "行号", "字段", "问题代码", "值", "说明"])
    flagged = _flagged_rows(start, end).where(Batch.department_id == department_id).subquery()
    query = (select(BatchProblem)
             .join(flagged, and_(flagged.c.batch_id == BatchProblem.batch_id, flagged.c.row == BatchProblem.row))
             .where(BatchProblem.severity == Severity.WARNING, BatchProblem.code.not_in(NOT_QUALITY_WARNINGS))
             .order_by(BatchProblem.batch_id, BatchProblem.row))  # fmt: skip
    for p in session.scalars(query):
        out.add([p.batch_id, p.row, p.column, p.code, p.value, p.message], f"/admin/batches/{p.batch_id}")
    return out


def _incomplete(session: Session, department_id: int, start: date, end: date, **kwargs: Any) -> Drilldown:
    settings: Settings = kwargs["settings"]
    out = Drilldown("应填而未填的选填项", ["信息类型", "决定文书号", "主体名称", "未填的项", "批次"])
    for rtype in load_catalog(settings.catalog_dirs).types.values():
        if not rtype.expected_fields:
            continue
        query = (select(Record).where(Record.department_id == department_id, Record.record_type == rtype.key,
                                      Record.reported_on >= start, Record.reported_on <= end)
                 .order_by(Record.id))  # fmt: skip
        for r in session.scalars(query):
            missing = [f"{f.title}（{f.code}）" for f in rtype.expected_fields if not _is_filled(r.payload.get(f.code))]
            if missing:
                out.add([rtype.name, r.doc_no, r.subject_name, "、".join(missing), r.batch_id],
                        f"/admin/batches/{r.batch_id}" if r.batch_id else None)  # fmt: skip
    return out


def _quality(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    moment = _utc_bounds(end, end)[1]
    out = Drilldown("由本部门数据引起、月末仍未解决的重错码问题", ["编号", "类型", "涉及主体数", "情况", "状态"])
    for issue in session.scalars(select(QualityIssue).order_by(QualityIssue.id)):
        if department_id in issue.department_ids and unresolved_at(issue, moment):
            out.add([issue.id, issue.kind.label, issue.affected, issue.detail.get("summary", ""), issue.status.label],
                    f"/admin/monitoring/quality/{issue.id}")  # fmt: skip
    return out


def _repairs(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    out = Drilldown("本月到期的修复申请", ["编号", "状态", "部门审核期限", "决定日期", "是否按期"])
    query = (select(RepairApplication).where(RepairApplication.department_id == department_id,
                                             RepairApplication.department_due >= start,
                                             RepairApplication.department_due <= end)
             .order_by(RepairApplication.department_due))  # fmt: skip
    for a in session.scalars(query):
        on_time = a.decided_on is not None and a.department_due is not None and a.decided_on <= a.department_due
        out.add([a.number, a.status.label, a.department_due, a.decided_on, "是" if on_time else "否"],
                f"/admin/repairs/{a.id}")  # fmt: skip
    return out


def _objections(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    out = Drilldown("本月到期的异议", ["编号", "状态", "处理期限", "办结日期", "是否按期"])
    query = (select(Objection).where(Objection.department_id == department_id, Objection.due_on >= start,
                                     Objection.due_on <= end).order_by(Objection.due_on))  # fmt: skip
    for o in session.scalars(query):
        on_time = o.decided_on is not None and o.decided_on <= o.due_on
        out.add([o.number, o.status.label, o.due_on, o.decided_on, "是" if on_time else "否"], f"/admin/objections/{o.id}")
    return out


def _checks(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    low, high = _utc_bounds(start, end)
    out = Drilldown("命中名单或措施、尚未反馈措施采纳情况的核查", ["核查编号", "核查时间", "事项", "查询内容"])
    fed_back = exists().where(CheckFeedback.check_id == CreditCheck.id)
    query = (select(CreditCheck).where(CreditCheck.department_id == department_id, CreditCheck.is_hit.is_(True),
                                       CreditCheck.created_at >= low, CreditCheck.created_at <= high, ~fed_back)
             .order_by(CreditCheck.id))  # fmt: skip
    for c in session.scalars(query):
        out.add([c.number, c.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"), c.matter, c.query_text],
                f"/admin/checks/{c.number}")  # fmt: skip
    return out


def _batches(session: Session, department_id: int, start: date, end: date, **_: Any) -> Drilldown:
    out = Drilldown("本月的导入批次", ["批次", "信息类型", "来源", "报送日期", "读入行数", "接收", "退回", "迟报"])
    query = (select(Batch).where(_month_batches(start, end), Batch.department_id == department_id)
             .order_by(Batch.id))  # fmt: skip
    for b in session.scalars(query):
        out.add([b.id, b.record_type, b.source.value, b.reported_on, b.rows_read, b.created + b.updated + b.unchanged,
                 b.rejected, b.late], f"/admin/batches/{b.id}")  # fmt: skip
    return out


def _types_due(session: Session, department_id: int, start: date, end: date, **kwargs: Any) -> Drilldown:
    """The department catalogue's types due this month, the ones not reported first."""
    names = {key: rtype.name for key, rtype in load_catalog(kwargs["settings"].catalog_dirs).types.items()}
    out = Drilldown("本月到期应报送的信息类型（部门目录清单）", ["信息类型", "报送频次", "报送期", "是否已报送"])
    due = intake_service.due_in_month(session, start=start, department_id=department_id)
    for d in sorted(due, key=lambda d: (d.reported, d.record_type)):
        out.add([names.get(d.record_type, d.record_type), intake_rules.FREQUENCIES.get(d.frequency, d.frequency),
                 f"{d.period[0]} 至 {d.period[1]}", "已报送" if d.reported else "未报送"],
                f"/admin/batches?department={department_id}")  # fmt: skip
    return out


def commitment_progress(status: TaskStatus, due_on: date, verified_on: date | None, today: date) -> str:
    """Where a verification task stands against its deadline, in the console's words."""
    if status is not TaskStatus.OPEN:
        return "按期核验" if verified_on is not None and verified_on <= due_on else "逾期核验"
    return "逾期未核验" if due_on < today else "待核验（未到期）"


def _commitments(session: Session, department_id: int, start: date, end: date, **kwargs: Any) -> Drilldown:
    """The 告知承诺 verification tasks due this month, the ones not verified on time first."""
    today: date = kwargs["today"]
    out = Drilldown("本月应核验的信用承诺（告知承诺核查期限在本月）",
                    ["承诺编码", "核查事项", "承诺作出日期", "核查期限", "核查日期", "核查结论", "是否按期"])  # fmt: skip
    for t in commitment_measures.due_tasks(session, department_id=department_id, start=start, end=end):
        out.add([t.code, t.matter, t.made_on, t.due_on, t.verified_on, t.status.label,
                 commitment_progress(t.status, t.due_on, t.verified_on, today)], f"/admin/commitments/{t.record_id}")  # fmt: skip
    return out


DRILLDOWNS: dict[str, Callable[..., Drilldown]] = {
    "rejected": _rejected, "late": _late, "flagged": _flagged, "incomplete": _incomplete, "quality": _quality,
    "repairs": _repairs, "objections": _objections, "checks": _checks, "batches": _batches,
    "types-due": _types_due, "commitments": _commitments,
}  # fmt: skip


def overdue_repairs(session: Session, *, today: date) -> list[RepairApplication]:
    """Applications with a department past its deadline and still undecided."""
    return list(session.scalars(
        select(RepairApplication).where(RepairApplication.status == RepairStatus.ACCEPTED,
                                        RepairApplication.department_due < today)
        .order_by(RepairApplication.department_due)
    ))  # fmt: skip
