"""Use-cases of credit checks: one subject, a batch of subjects, feedback and counts.

Single and batch checks share one set-based core (`_assemble`): a batch of 10,000 subjects costs a few
queries per 900 subjects, never one round trip per subject. Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure_department
from xinyong.catalog import load_catalog
from xinyong.catalog.schema import CHECKS
from xinyong.checks import extras as check_extras
from xinyong.checks import rules
from xinyong.checks.models import CheckFeedback, CreditCheck
from xinyong.clock import CHINA
from xinyong.codes import CodeError, mask_id_numbers, validate_id_number, validate_uscc
from xinyong.config import Settings
from xinyong.db import bulk_insert, utcnow
from xinyong.departments import service as departments_service
from xinyong.disclosure import service as disclosure
from xinyong.errors import InvalidInput, NotFound
from xinyong.evaluation import service as evaluation_service
from xinyong.lists import service as lists_service
from xinyong.measures import rules as measure_rules
from xinyong.measures import service as measures_service
from xinyong.measures.models import Measure, MeasureKind
from xinyong.protect import Protector
from xinyong.records.models import Record
from xinyong.subjects import names as search
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

MAX_CANDIDATES = 20
CHUNK = 900  # below SQLite's bound-parameter limit, with room for the other conditions


@dataclass(frozen=True)
class CheckItem:
    code: str | None = None
    name: str | None = None
    ref: str | None = None  # the caller's own row reference (e.g. a bidder number), echoed back


@dataclass
class _Found:
    subject: Any  # a Subject row (id, kind, name, uscc, id_masked)
    memberships: list[lists_service.Membership] = field(default_factory=list)
    negative: list[dict[str, Any]] = field(default_factory=list)
    negative_total: int = 0
    positive: list[dict[str, Any]] = field(default_factory=list)
    positive_total: int = 0


def check_matter(matter: str, settings: Settings) -> str:
    matter = (matter or "").strip()
    if matter not in settings.check_matters:
        raise InvalidInput(reason=f"未配置的核查事项“{matter}”（可选：{'、'.join(settings.check_matters)}）")
    return matter


# ---------------------------------------------------------------------------------------------- lookup


_s = Subject.__table__.c
_SUBJECT_COLUMNS = (_s.id, _s.kind, _s.name, _s.uscc, _s.id_masked)


def _resolve_codes(session: Session, codes: Iterable[str], protector: Protector) -> dict[str, Any]:
    """Normalised code → subject row, for USCCs and ID numbers in bulk; legacy codes one by one."""
    by_uscc: dict[str, str] = {}
    by_hash: dict[str, str] = {}
    others: list[str] = []
    for code in set(codes):
        try:
            by_uscc[validate_uscc(code)] = code
            continue
        except CodeError:
            pass
        try:
            by_hash[protector.lookup_hash(validate_id_number(code))] = code
            continue
        except CodeError:
            pass
        others.append(code)
    found: dict[str, Any] = {}
    for column, wanted in ((_s.uscc, by_uscc), (_s.id_hash, by_hash)):
        keys = list(wanted)
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            condition = column.in_(part) if len(part) > 1 else column == part[0]
            for row in session.connection().execute(select(*_SUBJECT_COLUMNS, column.label("key")).where(condition)):
                found[wanted[row.key]] = row
    for code in others:
        subject = subjects_service.find_by_code(session, code, protector)
        if subject is not None:
            found[code] = subject
    return found


def _candidates(session: Session, name: str) -> list[dict[str, Any]]:
    hits = search.search_names(session, name, offset=0, limit=MAX_CANDIDATES * 5)
    if not hits.subject_ids:
        return []
    rows = session.execute(select(Subject.id, Subject.name, Subject.name_norm, Subject.uscc, Subject.kind)
                           .where(Subject.id.in_(hits.subject_ids)))  # fmt: skip
    ranked = sorted(
        ({"name": r.name, "uscc": r.uscc, "kind": _kind(r.kind).value, "kind_label": _kind(r.kind).label,
          "score": rules.name_score(name, r.name_norm)} for r in rows),
        key=lambda c: (-c["score"], c["name"]),
    )  # fmt: skip
    return ranked[:MAX_CANDIDATES]


def _kind(value: Any) -> SubjectKind:
    return value if isinstance(value, SubjectKind) else SubjectKind(str(value))


# --------------------------------------------------------------------------------------------- records


def _record_types(settings: Settings) -> tuple[list[str], list[str], dict[str, str]]:
    """Negative and positive types as the catalogue declares them (`negative = true`, `positive = true`), of the
    classes a department may read about another's subjects (not 不予共享); neutral types are in neither list."""
    catalog = load_catalog(settings.catalog_dirs)
    shared = catalog.keys_on(CHECKS)
    return ([k for k in catalog.negative_keys if k in shared], [k for k in catalog.positive_keys if k in shared],
            {k: t.name for k, t in catalog.types.items()})  # fmt: skip


@dataclass(frozen=True)
class _Statements:
    negative: Any
    positive: Any
    counts: Any


_STATEMENTS: dict[tuple[Any, ...], tuple[Any, _Statements]] = {}


def _statements(session: Session, settings: Settings, today: date, kind: str | None) -> _Statements:
    """The record queries of one day, policy and subject kind, built once and reused: building the
    disclosure clause costs more than running the queries (a check by code must stay within milliseconds).
    The key holds everything the clause depends on, the departments' classes included."""
    policy = disclosure.load_policy(settings)
    classes = disclosure.department_classes(session, policy)
    negative_types, positive_types, _ = _record_types(settings)
    key = (id(policy), today, kind, settings.checks_positive_limit, tuple(sorted(classes.by_id.items())),
           tuple(negative_types), tuple(positive_types))  # fmt: skip
    hit = _STATEMENTS.get(key)
    if hit is not None:
        return hit[1]
    kind_arg: Any = kind if kind is not None else Subject.kind
    clause = disclosure.published_clause(session, policy, today, subject_kind=kind_arg)
    in_force = or_(Record.valid_until.is_(None), Record.valid_until >= today)
    by_subject = Record.subject_id.in_(bindparam("ids", expanding=True))
    base = select(Record.subject_id)
    if kind is None:
        base = base.join(Subject, Subject.id == Record.subject_id)
    negative = (base.add_columns(Record.id, Record.record_type, Record.doc_no, Record.decision_date,
                                 Record.publish_until, Record.tier, Record.department_id, Record.valid_until)
                .where(by_subject, Record.record_type.in_(negative_types), clause)
                .order_by(Record.decision_date.desc(), Record.id.desc()))  # fmt: skip
    ranked = base.add_columns(
        Record.record_type, Record.doc_no, Record.decision_date, Record.valid_until, Record.department_id,
        func.row_number().over(partition_by=Record.subject_id,
                               order_by=(Record.decision_date.desc(), Record.id.desc())).label("n"),
        func.count().over(partition_by=Record.subject_id).label("total"),
    ).where(by_subject, Record.record_type.in_(positive_types), clause, in_force).subquery()  # fmt: skip
    positive = select(ranked).where(ranked.c.n <= max(settings.checks_positive_limit, 1))
    is_negative = Record.record_type.in_(negative_types)
    is_positive = Record.record_type.in_(positive_types)
    counts = base.add_columns(
        func.sum(case((is_negative, 1), else_=0)).label("neg"),
        func.sum(case((and_(is_positive, in_force), 1), else_=0)).label("pos"),
    ).where(by_subject, clause).group_by(Record.subject_id)
    statements = _Statements(negative, positive, counts)
    if len(_STATEMENTS) > 64:
        _STATEMENTS.clear()
    _STATEMENTS[key] = (policy, statements)  # holding the policy keeps its id from being reused
    return statements


def _records(session: Session, found: dict[int, _Found], *, settings: Settings, today: date, detail: bool) -> None:
    """Negative records inside their publicity period and positive records in force, per subject. The
    disclosure rules decide what is inside its period (the same SQL the portal uses)."""
    if not found:
        return
    _, _, names = _record_types(settings)
    departments = departments_service.names_by_id(session)
    ids = list(found)
    kinds = {_kind(f.subject.kind).value for f in found.values()}
    statements = _statements(session, settings, today, kinds.pop() if len(kinds) == 1 else None)
    limit = settings.checks_positive_limit
    connection = session.connection()
    for start in range(0, len(ids), CHUNK):
        part = {"ids": ids[start : start + CHUNK]}
        if not detail:
            for r in connection.execute(statements.counts, part):
                found[r.subject_id].negative_total = int(r.neg or 0)
                found[r.subject_id].positive_total = int(r.pos or 0)
            continue
        for r in connection.execute(statements.negative, part):
            item = found[r.subject_id]
            item.negative_total += 1
            item.negative.append({
                "record_type": r.record_type, "record_type_name": names.get(r.record_type, r.record_type),
                "doc_no": r.doc_no, "decision_date": r.decision_date.isoformat(), "tier": r.tier,
                "publish_until": r.publish_until.isoformat() if r.publish_until else None,
                "department": departments.get(r.department_id, ""),
            })  # fmt: skip
        for r in connection.execute(statements.positive, part):
            item = found[r.subject_id]
            item.positive_total = r.total
            if r.n <= limit:
                item.positive.append({
                    "record_type": r.record_type, "record_type_name": names.get(r.record_type, r.record_type),
                    "doc_no": r.doc_no, "decision_date": r.decision_date.isoformat(),
                    "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                    "department": departments.get(r.department_id, ""),
                })  # fmt: skip


# ------------------------------------------------------------------------------------------- documents


def _measure_doc(measure: measures_service.CurrentMeasure) -> dict[str, Any]:
    return {"code": measure.code, "version": measure.version, "matter": measure.matter, "content": measure.content,
            "list_types": list(measure.list_types), "basis": measure.basis, "level": measure.level,
            "kind": measure.kind.value, "kind_label": measure.kind.label, "effect": measure.effect.value,
            "effect_label": measure.effect.label, "frequency": measure.frequency}  # fmt: skip


def _subject_doc(subject: Any) -> dict[str, Any]:
    kind = _kind(subject.kind)
    return {"name": subject.name, "kind": kind.value, "kind_label": kind.label, "uscc": subject.uscc,
            "id_masked": subject.id_masked if kind is SubjectKind.PERSON else None}  # fmt: skip


def _result_doc(found: _Found, measures: list[measures_service.CurrentMeasure], matter: str) -> tuple[dict[str, Any], str, bool]:
    member_of = {m.type_key for m in found.memberships}
    applied = measures_service.applicable(measures, matter=matter, member_of=member_of)
    hint = measure_rules.overall_hint(
        (m.effect.value for m in applied),
        has_punitive_membership=any(m.nature != "honor" for m in found.memberships),
        has_negative_records=found.negative_total > 0,
    )
    doc = {
        "outcome": "found", "subject": _subject_doc(found.subject), "hint": hint,
        "hint_label": measure_rules.HINT_LABELS[hint],
        "memberships": [m.as_dict() for m in found.memberships],
        "negative_records": found.negative, "negative_total": found.negative_total,
        "positive_records": found.positive, "positive_total": found.positive_total,
        "measures": [_measure_doc(m) for m in sorted(applied, key=lambda m: (m.kind != MeasureKind.SANCTION, m.code))],
        "candidates": [], "message": None,
    }  # fmt: skip
    return doc, hint, bool(found.memberships or applied)


def _empty_doc(outcome: str, *, candidates: list[dict[str, Any]] | None = None, message: str) -> dict[str, Any]:
    return {"outcome": outcome, "subject": None, "hint": "none" if outcome == "not-found" else None,
            "hint_label": "无" if outcome == "not-found" else None, "memberships": [], "negative_records": [],
            "negative_total": 0, "positive_records": [], "positive_total": 0, "measures": [],
            "candidates": candidates or [], "message": message, "evaluation": None, "extras": {}}  # fmt: skip


# ------------------------------------------------------------------------------------------ the checks


def prepare_checks(
    session: Session, items: list[CheckItem], *, matter: str, actor: Actor, settings: Settings,
    protector: Protector, today: date, detail: bool, batch_no: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Check every item for `matter`: one document per item, and the row that records it (see store_checks).
    Reads only, so that a caller on SQLite can end its read transaction before the write."""
    matter = check_matter(matter, settings)
    queries = [rules.read_query(i.code, i.name) for i in items]
    subjects = _resolve_codes(session, (q.value for q in queries if q.kind == "code"), protector)
    found = {s.id: _Found(s) for s in subjects.values()}
    for member_id, entries in lists_service.memberships(session, list(found), today=today).items():
        found[member_id].memberships = entries
    _records(session, found, settings=settings, today=today, detail=detail)
    grades = evaluation_service.grades_for(session, list(found), settings=settings)
    extras = check_extras.collect(session, check_extras.ExtrasQuery(
        list(found), matter, actor.department_id, today, settings)) if detail else {}  # fmt: skip
    measures = measures_service.current_for_matter(session, matter, region=actor.region)
    now = utcnow()
    documents, rows = [], []
    for item, query in zip(items, queries, strict=True):
        subject_id: int | None = None
        hint: str | None = None
        is_hit = False
        if query.kind == "code":
            subject = subjects.get(query.value)
            if subject is None:
                doc = _empty_doc("not-found", message="信用主体库中没有该代码的主体，核查结果为“无”")
                hint = "none"
            else:
                subject_id = subject.id
                doc, hint, is_hit = _result_doc(found[subject.id], measures, matter)
                grade = grades.get(subject.id)
                doc["evaluation"] = grade.as_dict() if grade else None
                doc["extras"] = extras.get(subject.id, {})
        elif query.kind == "name":
            candidates = _candidates(session, query.value)
            doc = _empty_doc("candidates" if candidates else "not-found", candidates=candidates,
                             message="仅凭名称不能确定主体：请从候选主体中选择，按统一社会信用代码重新核查" if candidates
                             else "没有名称相符的主体；请按统一社会信用代码核查")  # fmt: skip
            hint = None if candidates else "none"
        else:
            doc = _empty_doc("invalid", message="请提供统一社会信用代码、证件号码或名称")
        number = rules.check_number(today)
        doc = {"number": number, "checked_at": now.isoformat(), "matter": matter,
               "query": {"kind": query.kind, "value": query.shown},
               "ref": mask_id_numbers(item.ref) if item.ref else item.ref, **doc}  # fmt: skip
        documents.append(doc)
        rows.append({"number": number, "batch_no": batch_no, "created_at": now, "actor": actor.label[:100],
                     "department_id": actor.department_id, "matter": matter, "query_kind": query.kind,
                     "query_text": query.shown, "subject_id": subject_id, "outcome": doc["outcome"], "hint": hint,
                     "is_hit": is_hit, "result": doc})  # fmt: skip
    return documents, rows


_INSERT_CHECK = insert(CreditCheck.__table__)


def store_checks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record the checks (who, department, matter, what was returned)."""
    if len(rows) > 20:
        bulk_insert(session, CreditCheck.__table__, rows)
    elif rows:
        session.connection().execute(_INSERT_CHECK, rows)


def run_checks(
    session: Session, items: list[CheckItem], *, matter: str, actor: Actor, settings: Settings,
    protector: Protector, today: date, detail: bool, batch_no: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Check and record in the caller's transaction."""
    documents, rows = prepare_checks(session, items, matter=matter, actor=actor, settings=settings,
                                     protector=protector, today=today, detail=detail, batch_no=batch_no)  # fmt: skip
    store_checks(session, rows)
    return documents


def run_check(session: Session, item: CheckItem, *, matter: str, actor: Actor, settings: Settings,
              protector: Protector, today: date) -> dict[str, Any]:  # fmt: skip
    return run_checks(session, [item], matter=matter, actor=actor, settings=settings, protector=protector,
                      today=today, detail=True)[0]  # fmt: skip


def prepare_batch(session: Session, items: list[CheckItem], *, matter: str, actor: Actor, settings: Settings,
                  protector: Protector, today: date) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """A batch check (every bidder of a tender …): its number, one document per subject, the rows to store."""
    if not items:
        raise InvalidInput(reason="没有要核查的主体")
    if len(items) > settings.checks_batch_max_rows:
        raise InvalidInput(reason=f"一次最多核查 {settings.checks_batch_max_rows} 个主体，请分批提交")
    batch_no = rules.check_number(today, prefix="HB")
    documents, rows = prepare_checks(session, items, matter=matter, actor=actor, settings=settings,
                                     protector=protector, today=today, detail=False, batch_no=batch_no)  # fmt: skip
    return batch_no, documents, rows


def run_batch(session: Session, items: list[CheckItem], *, matter: str, actor: Actor, settings: Settings,
              protector: Protector, today: date) -> tuple[str, list[dict[str, Any]]]:  # fmt: skip
    batch_no, documents, rows = prepare_batch(session, items, matter=matter, actor=actor, settings=settings,
                                              protector=protector, today=today)  # fmt: skip
    store_checks(session, rows)
    return batch_no, documents


BATCH_COLUMNS = ["序号", "核查编号", "查询内容", "主体名称", "统一社会信用代码", "核查结果", "提示", "名单", "公示中的失信记录数",
                 "守信/许可记录数", "适用措施（编号@版本：内容；依据）", "说明"]  # fmt: skip


def batch_row(index: int, doc: dict[str, Any]) -> list[Any]:
    subject = doc.get("subject") or {}
    outcome = {"found": "已核查", "not-found": "未找到", "candidates": "需确认主体", "invalid": "无效"}[doc["outcome"]]
    measures = "；".join(f"{m['code']}@{m['version']}：{m['content']}（依据：{m['basis']}）" for m in doc["measures"])
    memberships = "、".join(m["list_name"] for m in doc["memberships"])
    note = doc.get("message") or ""
    if doc["candidates"]:
        note += "：" + "、".join(f"{c['name']}（{c['uscc'] or '—'}）" for c in doc["candidates"][:5])
    return [doc.get("ref") or index, doc["number"], doc["query"]["value"], subject.get("name", ""),
            subject.get("uscc") or subject.get("id_masked") or "", outcome, doc.get("hint_label") or "", memberships,
            doc["negative_total"], doc["positive_total"], measures, note]  # fmt: skip


# -------------------------------------------------------------------------------------- reading back


def get_check(session: Session, number: str, *, actor: Actor) -> CreditCheck:
    check = session.scalar(select(CreditCheck).where(CreditCheck.number == (number or "").strip()[:24]))
    if check is None or not _reaches_check(actor, check):
        raise NotFound(what=f"核查记录 {number}")  # another department's (county's) checks do not exist for it
    return check


def _check_scope(actor: Actor) -> ColumnElement[bool] | None:
    """The checks a scoped actor reads (None: all): its department's, or those of its region's departments by
    when they were made; a check made by no department (a platform-level account) only by whoever made it."""
    clause = actor.reach(CreditCheck.department_id, CreditCheck.created_at)
    if clause is None or actor.is_department_bound:
        return clause
    return or_(clause, and_(CreditCheck.department_id.is_(None), CreditCheck.actor == actor.label[:100]))


def _reaches_check(actor: Actor, check: CreditCheck) -> bool:
    if check.department_id is None and not actor.is_department_bound and actor.scope is not None:
        return check.actor == actor.label[:100]
    return actor.can_reach(check.department_id, check.created_at)


def recent_checks(session: Session, actor: Actor, *, limit: int = 50) -> list[CreditCheck]:
    query = select(CreditCheck).order_by(CreditCheck.id.desc()).limit(limit)
    if (clause := _check_scope(actor)) is not None:
        query = query.where(clause)
    return list(session.scalars(query))


def record_feedback(session: Session, number: str, *, measure_code: str | None, is_applied: bool, note: str | None,
                    actor: Actor) -> CheckFeedback:  # fmt: skip
    """奖惩结果反馈 for one returned measure (or the check as a whole): applied, or why not."""
    check = get_check(session, number, actor=actor)
    if check.department_id is not None:  # a county account's own check of no department: reached above
        ensure_department(actor, check.department_id)
    note = mask_id_numbers((note or "").strip()) or None
    measure_id = None
    if measure_code:
        returned = {m["code"]: m["version"] for m in check.result.get("measures", [])}
        if measure_code not in returned:
            raise InvalidInput(reason=f"措施 {measure_code} 不在本次核查返回的措施中")
        measure_id = session.scalar(select(Measure.id).where(Measure.code == measure_code,
                                                             Measure.version == returned[measure_code]))  # fmt: skip
    elif is_applied:
        raise InvalidInput(reason="请指明实际适用的措施")
    if not is_applied and (note is None or len(note) < 4):
        raise InvalidInput(reason="未适用措施的，请说明理由（至少 4 个字）")
    feedback = CheckFeedback(check_id=check.id, measure_id=measure_id, is_applied=is_applied, note=note,
                             actor=actor.label[:100], department_id=check.department_id)  # fmt: skip
    session.add(feedback)
    audit.record(session, AuditAction.CHECK_FEEDBACK, actor=actor, department_id=check.department_id,
                 subject_id=check.subject_id, target=f"check:{check.number}", reason=note,
                 details={"measure": measure_code, "applied": is_applied})  # fmt: skip
    return feedback


def feedback_of(session: Session, check_id: int) -> list[tuple[CheckFeedback, str | None]]:
    rows = session.execute(select(CheckFeedback, Measure.code).outerjoin(Measure, Measure.id == CheckFeedback.measure_id)
                           .where(CheckFeedback.check_id == check_id).order_by(CheckFeedback.id))  # fmt: skip
    return [(r[0], r[1]) for r in rows]


@dataclass
class StatRow:
    department: str
    matter: str
    checks: int
    hits: int
    applied: int
    not_applied: int


def statistics(session: Session, actor: Actor, *, since: date | None = None) -> list[StatRow]:
    """Checks, hits and feedback per department and matter (bound actors: their own department)."""
    checks = select(CreditCheck.department_id, CreditCheck.matter, func.count().label("checks"),
                    func.sum(case((CreditCheck.is_hit.is_(True), 1), else_=0)).label("hits"))  # fmt: skip
    feedback = (select(CreditCheck.department_id, CreditCheck.matter,
                       func.sum(case((CheckFeedback.is_applied.is_(True), 1), else_=0)).label("applied"),
                       func.sum(case((CheckFeedback.is_applied.is_(False), 1), else_=0)).label("not_applied"))
                .join(CheckFeedback, CheckFeedback.check_id == CreditCheck.id))  # fmt: skip
    if (clause := _check_scope(actor)) is not None:  # a county's figures: its own departments' checks
        checks = checks.where(clause)
        feedback = feedback.where(clause)
    if since is not None:
        from datetime import datetime, time


        start = datetime.combine(since, time.min, tzinfo=CHINA)
        checks = checks.where(CreditCheck.created_at >= start)
        feedback = feedback.where(CreditCheck.created_at >= start)
    counts: dict[tuple[int | None, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in session.execute(checks.group_by(CreditCheck.department_id, CreditCheck.matter)):
        counts[(r.department_id, r.matter)][:2] = [int(r.checks), int(r.hits or 0)]
    for r in session.execute(feedback.group_by(CreditCheck.department_id, CreditCheck.matter)):
        counts[(r.department_id, r.matter)][2:] = [int(r.applied or 0), int(r.not_applied or 0)]
    names = departments_service.names_by_id(session)
    return sorted((StatRow(names.get(d, "平台") if d else "平台（未绑定部门）", m, *v) for (d, m), v in counts.items()),
                  key=lambda s: (s.department, s.matter))  # fmt: skip
