"""Why a subject has its grade, indicator by indicator, and what would change it.

The points and the records behind them are the run's own (`evaluation_points`); what would change the grade
is worked out by scoring the subject again in Python (`rules.evaluate`, the run's twin): with one record
repaired, one list entry removed, or on the days its records stop counting (end of publicity, of validity,
or of the indicator's age window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actors import Actor, DepartmentScope
from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.disclosure.models import PublicationStop
from xinyong.errors import NotFound
from xinyong.evaluation import rules, service, spec
from xinyong.evaluation.models import EvaluationPoints, EvaluationRun, EvaluationScore, RunStatus
from xinyong.evaluation.rules import EntryFact, RecordFact
from xinyong.lists.models import ListEntry, ListType
from xinyong.records.models import Record, RecordStatus
from xinyong.repair import service as repair_service
from xinyong.subjects.models import Subject

HORIZON_DAYS = 5 * 366  # expiries further away are not worth a prediction
OTHER_REGIONS = "其他区县记录"
MAX_PROSPECTS = 8
REPAIRABLE = ("eligible", "not-yet")


@dataclass
class Evidence:
    id: int
    is_entry: bool
    title: str  # record type or list name
    doc_no: str
    department: str
    decision_date: date | None
    tier: str | None
    publish_until: date | None
    points: int | None  # what this record scored on its own (kinds); None for bands
    counts_until: date | None  # last day it counts towards the indicator, when that day is known
    repair: str | None = None  # repair eligibility message, for repairable records
    repair_code: str | None = None
    department_id: int | None = None  # who made it, and when: whether a county's viewer may see which it is
    made_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "list_entry" if self.is_entry else "record", "id": self.id, "title": self.title,
            "doc_no": self.doc_no, "department": self.department,
            "decision_date": self.decision_date.isoformat() if self.decision_date else None, "tier": self.tier,
            "publish_until": self.publish_until.isoformat() if self.publish_until else None, "points": self.points,
            "counts_until": self.counts_until.isoformat() if self.counts_until else None,
            "repair": self.repair_code,
        }  # fmt: skip


@dataclass
class IndicatorView:
    indicator: spec.Indicator
    path: str
    points: int
    hits: int
    measure: str | None
    evidence: list[Evidence] = field(default_factory=list)
    others: int = 0  # records counted here that were made outside the viewer's county (not named)
    others_points: int | None = None  # what they scored together, where each record scores on its own

    @property
    def more(self) -> int:
        return max(0, self.hits - len(self.evidence) - self.others)

    @property
    def is_capped(self) -> bool:
        return abs(self.points) >= self.indicator.weight and self.hits > 0

    def as_dict(self) -> dict[str, Any]:
        i = self.indicator
        return {"key": i.key, "name": i.name, "path": self.path, "direction": i.direction, "weight": i.weight,
                "points": self.points, "hits": self.hits, "measure": self.measure, "basis": i.basis,
                "records": [e.as_dict() for e in self.evidence], "other_region_records": self.others,
                "other_region_points": self.others_points}  # fmt: skip


@dataclass
class Prospect:
    """What the score and grade would be: after a repair (`on` = from when it may be applied for) or on a day
    when records stop counting."""

    kind: str  # repair | list-repair | expiry
    on: date | None
    reason: str
    score: int
    grade: str
    grade_label: str
    delta: int
    doc_nos: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "on": self.on.isoformat() if self.on else None, "reason": self.reason,
                "score": self.score, "grade": self.grade, "delta": self.delta, "doc_nos": list(self.doc_nos)}  # fmt: skip


@dataclass
class Explanation:
    subject: Subject
    run: EvaluationRun
    model: spec.Model
    score: int
    grade: spec.Grade
    override: str | None
    override_text: str | None
    indicators: list[IndicatorView]
    repairs: list[Prospect]
    expiries: list[Prospect]
    is_current: bool  # the record has not changed since the run (the Python score agrees with the run's)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": {"name": self.subject.name, "uscc": self.subject.uscc, "kind": self.subject.kind.value},
            "run": {"id": self.run.id, "as_of": self.run.as_of.isoformat(),
                    "model": f"{self.model.key}@{self.model.version}"},
            "score": self.score, "max_score": self.model.max_score, "grade": self.grade.symbol,
            "grade_label": self.grade.label, "override": self.override, "override_reason": self.override_text,
            "indicators": [v.as_dict() for v in self.indicators],
            "what_would_change_it": [p.as_dict() for p in (*self.repairs, *self.expiries)],
            "record_changed_since_run": not self.is_current,
        }  # fmt: skip


# ------------------------------------------------------------------------------------------ facts


def subject_facts(session: Session, subject_id: int) -> tuple[list[RecordFact], list[EntryFact], dict[int, Any],
                                                              dict[int, Any]]:  # fmt: skip
    """The subject's records (every type, with their repair stops) and list entries of active types, as
    scoring reads them, and the rows themselves by id."""
    rows = session.execute(select(Record, PublicationStop).outerjoin(PublicationStop, PublicationStop.record_id == Record.id)
                           .where(Record.subject_id == subject_id)).all()  # fmt: skip
    records, by_id = [], {}
    for record, stop in rows:
        by_id[record.id] = record
        records.append(RecordFact(
            record.id, record.record_type, record.doc_no, record.status == RecordStatus.ACTIVE, record.decision_date,
            record.valid_from, record.valid_until, record.publish_until, record.tier, record.categories,
            dict(record.payload or {}), stop.stopped_on if stop else None, stop.lifted_on if stop else None,
        ))  # fmt: skip
    entries, entry_rows = [], {}
    for entry, list_type in session.execute(
        select(ListEntry, ListType).join(ListType, ListType.id == ListEntry.list_type_id)
        .where(ListEntry.subject_id == subject_id, ListType.is_active.is_(True))
    ):  # fmt: skip
        entry_rows[entry.id] = (entry, list_type)
        entries.append(EntryFact(entry.id, list_type.key, entry.state.value, entry.valid_from, entry.valid_until,
                                 entry.ended_on))  # fmt: skip
    return records, entries, by_id, entry_rows


def counts_until(source: spec.RecordSource, fact: RecordFact, as_of: date) -> date | None:
    """The last day the record counts towards an indicator of this source, if it ends."""
    ends = []
    if source.counts_while == "published" and fact.publish_until is not None:
        ends.append(fact.publish_until)
    if source.counts_while == "valid" and fact.valid_until is not None:
        ends.append(fact.valid_until)
    if source.max_age_months:
        guess = rules.add_months(fact.decision_date, source.max_age_months) - timedelta(days=3)
        while rules.record_counts(replace(source, min_age_months=0), fact, guess) and guess < date.max - timedelta(days=9):
            guess += timedelta(days=1)
        ends.append(guess - timedelta(days=1))
    return min(ends) if ends else None


# ------------------------------------------------------------------------------------------ explanation


def explain(session: Session, subject: Subject, *, settings: Settings, today: date,
            run: EvaluationRun | None = None, within: DepartmentScope | None = None) -> Explanation | None:  # fmt: skip
    """The subject's grade in `run` (default: the latest completed run), explained; None if not evaluated.

    `within`: a county viewer's region (`departments.service.region_scope`). The grade is the city's, over every
    county's records, but the records and list entries made outside `within` are not named: each indicator counts
    them (`others`, with their points), and what would change the grade says "其他区县记录" instead of their
    文书号."""
    run = run or service.latest_run(session)
    if run is None or run.status != RunStatus.COMPLETED.value:
        return None
    row = session.get(EvaluationScore, (run.id, subject.id))
    if row is None:
        return None
    _, model_row = service.get_run(session, run.id)
    model = service.model_of(session, model_row, settings=settings)
    records, entries, record_rows, entry_rows = subject_facts(session, subject.id)
    mirror = rules.evaluate(model, records, entries, run.as_of)
    stored = {p.indicator: p for p in session.scalars(
        select(EvaluationPoints).where(EvaluationPoints.run_id == run.id, EvaluationPoints.subject_id == subject.id))}  # fmt: skip
    departments = departments_service.names_by_id(session)
    catalog = load_catalog(settings.catalog_dirs)
    facts_by_id = {f.id: f for f in records}
    views = []
    for indicator in model.indicators:
        kept = stored.get(indicator.key)
        live = mirror.indicators.get(indicator.key)
        if kept is None and (run.has_details or live is None):
            continue
        points = kept.points if kept is not None else live.points  # type: ignore[union-attr]
        hits = kept.hits if kept is not None else len(live.hits)  # type: ignore[union-attr]
        if kept is not None and kept.evidence:
            ids = [int(x) for x in kept.evidence.split(",") if x]
        else:
            ids = [h.id for h in live.hits][: rules.EVIDENCE_CAP] if live else []
        own = {h.id: h.points for h in live.hits} if live else {}
        order = {h.id: n for n, h in enumerate(live.hits)} if live else {}
        ids.sort(key=lambda i: order.get(i, len(order) + i))
        view = IndicatorView(indicator, " › ".join(n.name for n in model.path(indicator)), points, hits,
                             str(live.measure) if live and live.measure is not None else None)  # fmt: skip
        for item_id in ids:
            view.evidence.append(_evidence(indicator, item_id, own, record_rows, entry_rows, facts_by_id, catalog,
                                           departments, run.as_of))  # fmt: skip
        views.append(view)
    grade = model.grade(row.grade)
    explanation = Explanation(subject, run, model, row.score, grade, row.override,
                              _override_text(model, row.override), views, [], [],
                              mirror.score == row.score and mirror.grade == row.grade)  # fmt: skip

    def shown(item: Evidence) -> bool:
        return within is None or within.covers(item.department_id, item.made_at)

    _repairs(session, explanation, model, records, entries, record_rows, entry_rows, settings=settings, today=today,
             shown=shown)  # fmt: skip
    _expiries(explanation, model, records, entries, shown=shown)
    for view in explanation.indicators:
        hidden = [item for item in view.evidence if not shown(item)]
        if hidden:
            view.evidence = [item for item in view.evidence if shown(item)]
            view.others = len(hidden)
            scores = [item.points for item in hidden]
            view.others_points = None if None in scores else sum(p for p in scores if p is not None)
    return explanation


def explain_for(session: Session, subject: Subject, *, actor: Actor, settings: Settings, today: date,
                run: EvaluationRun | None = None) -> Explanation | None:  # fmt: skip
    """The explanation a console account reads: a county's accounts (its 信用办, auditor, or a department's staff)
    see the grade and every indicator's points, and the records of their own county by name; the city's see all."""
    within = departments_service.region_scope(session, actor.region)
    return explain(session, subject, settings=settings, today=today, run=run, within=within)


def _evidence(indicator: spec.Indicator, item_id: int, own: dict[int, int], record_rows: dict[int, Any],
              entry_rows: dict[int, Any], facts: dict[int, RecordFact], catalog: Any, departments: dict[int, str],
              as_of: date) -> Evidence:  # fmt: skip
    points = own.get(item_id) if isinstance(indicator.scoring, spec.KindScoring) else None
    if indicator.reads_lists:
        entry, list_type = entry_rows[item_id]
        return Evidence(item_id, True, list_type.name, entry.decision_no or entry.source_ref or "",
                        departments.get(entry.department_id, entry.source or ""), entry.valid_from, None, None,
                        points, entry.valid_until, department_id=entry.department_id, made_at=entry.created_at)  # fmt: skip
    record = record_rows[item_id]
    title = catalog.types[record.record_type].name if record.record_type in catalog.types else record.record_type
    assert isinstance(indicator.source, spec.RecordSource)
    return Evidence(item_id, False, title, record.doc_no, departments.get(record.department_id, ""),
                    record.decision_date, record.tier, record.publish_until, points,
                    counts_until(indicator.source, facts[item_id], as_of), department_id=record.department_id,
                    made_at=record.created_at)  # fmt: skip


def _override_text(model: spec.Model, code: str | None) -> str | None:
    if code is None:
        return None
    if code == rules.NO_RECORD:
        return f"本主体在评价日尚无任何信用记录，按模型规定评为默认等级 {model.default_grade}（不视为信用最好）"
    for override in model.overrides:
        if override.code == code:
            what = f"列入{'、'.join(override.lists)}" if override.lists else f"在指标“{model.indicator(override.indicator).name}”有记录"  # type: ignore[arg-type]
            return f"{what}，评价等级不高于 {override.grade}。{override.basis}"
    return code


def _prospect(kind: str, on: date | None, reason: str, result: rules.SubjectResult, model: spec.Model, score: int,
              doc_nos: tuple[str, ...] = ()) -> Prospect:  # fmt: skip
    return Prospect(kind, on, reason, result.score, result.grade, model.grade(result.grade).label,
                    result.score - score, doc_nos)  # fmt: skip


def _repairs(session: Session, explanation: Explanation, model: spec.Model, records: list[RecordFact],
             entries: list[EntryFact], record_rows: dict[int, Any], entry_rows: dict[int, Any], *,
             settings: Settings, today: date, shown: Callable[[Evidence], bool]) -> None:  # fmt: skip
    """For each repairable record (or list entry) behind a deduction: the score and grade once repaired."""
    as_of = explanation.run.as_of
    seen: set[tuple[bool, int]] = set()
    for view in explanation.indicators:
        if not view.indicator.is_deduct:
            continue
        source = view.indicator.source
        for item in view.evidence:
            if (item.is_entry, item.id) in seen:
                continue
            seen.add((item.is_entry, item.id))
            if item.is_entry:
                entry, _ = entry_rows[item.id]
                eligibility = repair_service.list_eligibility_of(session, entry, settings=settings, today=today)
                changed = [e if e.id != item.id else replace(e, state="removed", ended_on=as_of) for e in entries]
                result = rules.evaluate(model, records, changed, as_of)
                kind, what = "list-repair", (f"申请信用修复提前移出“{item.title}”" if shown(item)
                                             else f"{OTHER_REGIONS} 1 条（名单）申请信用修复提前移出名单")
            else:
                assert isinstance(source, spec.RecordSource)
                if source.repaired != "exclude":
                    continue
                eligibility = repair_service.eligibility_of(session, record_rows[item.id], settings=settings, today=today)
                changed_records = [f if f.id != item.id else replace(f, stopped_on=as_of, lifted_on=None) for f in records]
                result = rules.evaluate(model, changed_records, entries, as_of)
                kind, what = "repair", (f"对 {item.doc_no} 完成信用修复（停止公示）" if shown(item)
                                        else f"{OTHER_REGIONS} 1 条完成信用修复（停止公示）")
            item.repair, item.repair_code = eligibility.message, eligibility.code
            if eligibility.code not in REPAIRABLE or (result.score == explanation.score and result.grade == explanation.grade.symbol):
                continue
            on = eligibility.earliest if eligibility.code == "not-yet" else None
            named = (item.doc_no,) if shown(item) else ()
            explanation.repairs.append(_prospect(kind, on, what, result, model, explanation.score, named))


def _expiries(explanation: Explanation, model: spec.Model, records: list[RecordFact], entries: list[EntryFact], *,
              shown: Callable[[Evidence], bool]) -> None:  # fmt: skip
    """The days ahead on which records stop counting and the score changes, with the score from each."""
    as_of = explanation.run.as_of
    ends: dict[date, list[str]] = {}
    unnamed: dict[date, set[tuple[bool, int]]] = {}
    for view in explanation.indicators:
        for item in view.evidence:
            if item.counts_until is not None and item.counts_until >= as_of:
                day = item.counts_until + timedelta(days=1)
                if (day - as_of).days <= HORIZON_DAYS:
                    ends.setdefault(day, [])
                    if shown(item):
                        ends[day].append(item.doc_no)
                    else:
                        unnamed.setdefault(day, set()).add((item.is_entry, item.id))
    before = (explanation.score, explanation.grade.symbol)
    for day in sorted(ends)[: MAX_PROSPECTS * 2]:
        result = rules.evaluate(model, records, entries, day)
        if (result.score, result.grade) == before:
            continue
        named = list(dict.fromkeys(ends[day]))
        others = [f"{OTHER_REGIONS} {len(unnamed[day])} 条"] if day in unnamed else []
        names = "、".join(named + others)
        explanation.expiries.append(_prospect("expiry", day, f"{names} 不再计入（公示期或有效期届满）", result, model,
                                              explanation.score, tuple(named)))  # fmt: skip
        before = (result.score, result.grade)
        if len(explanation.expiries) >= MAX_PROSPECTS:
            break


def find_subject(session: Session, subject_id: int) -> Subject:
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(what="该信用主体")
    return subject
