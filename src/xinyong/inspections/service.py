"""Use-cases of graded supervision: the inspector roster, plans, the draw, publication and results.

Nothing here commits, except what the ingestion pipeline commits when a result becomes a record. A refused
second draw is audited and raised with an error that keeps its changes (the audit entry survives)."""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor, DepartmentScope
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import RecordType, load_catalog
from xinyong.config import Settings
from xinyong.db import begin_writing, bulk_insert, utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from xinyong.evaluation import service as evaluation_service
from xinyong.inspections import roster, rules
from xinyong.inspections.models import (
    InspectionAssignment,
    InspectionDraw,
    InspectionPlan,
    Inspector,
    PlanInspector,
    PlanSectorMember,
    PlanStatus,
)
from xinyong.inspections.rules import Member, RosterEntry
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource, Record, RecordStatus
from xinyong.subjects.models import KIND_LABELS, Subject, SubjectKind

BUILTIN_SECTORS = Path(__file__).resolve().parent.parent / "catalog" / "sectors.toml"
RESULT_ROLE = "result"  # results are recorded as the catalogue type whose fields declare this role
PLAN_KINDS = (SubjectKind.ORGANISATION.value, SubjectKind.INDIVIDUAL_BUSINESS.value)
MAX_SEED = 2**63 - 1


class SectorsInvalid(DomainError):
    code = "sectors-invalid"
    status_code = 500
    message_template = "抽查行业与重点领域配置有误：{reason}"


class NoEvaluation(DomainError):
    code = "no-evaluation"
    status_code = 409
    message_template = "尚无已完成的信用综合评价：请先运行评价，抽查比例按评价等级确定"


class RosterEmpty(InvalidInput):
    code = "roster-empty"
    message_template = "输入有误：执法检查人员名单为空（本部门尚未登记在岗的检查人员，或所列人员均不存在）"


class RosterTooSmall(InvalidInput):
    code = "roster-too-small"
    message_template = "输入有误：每个检查对象须选派 {needed} 名检查人员，名单只有 {count} 名"


class PopulationEmpty(InvalidInput):
    code = "population-empty"
    message_template = "输入有误：按所选条件没有可抽查的主体（抽查对象名录为空），请调整主体类别、区域或行业"


class InspectorExcludedEverywhere(InvalidInput):
    code = "inspector-excluded-everywhere"
    message_template = "输入有误：检查人员 {name}（{badge}）与全部抽查对象均须回避，请将其移出本计划的检查人员名单"


class RedrawRefused(DomainError):
    code = "redraw-refused"
    status_code = 409
    keeps_changes = True  # the refusal is audited
    message_template = "本计划已于 {day} 以种子 {seed} 完成抽取{published}，不得以其他种子重新抽取（本次请求已记录）"


class OtherDepartment(PermissionDenied):
    code = "other-department"
    message_template = "只有实施检查的部门（{department}）可以录入本计划的检查结果"


# ------------------------------------------------------------------------------------------ sectors


@dataclass(frozen=True)
class Sector:
    key: str
    name: str
    record_type: str
    field: str
    contains: tuple[str, ...]
    special: bool


@lru_cache(maxsize=8)
def _sectors(path: Path, catalog_dirs: tuple[Path, ...]) -> dict[str, Sector]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SectorsInvalid(reason=f"{path.name}：{exc}") from None
    catalog = load_catalog(catalog_dirs)
    found: dict[str, Sector] = {}
    for n, item in enumerate(raw.get("sectors", []), 1):
        try:
            sector = Sector(str(item["key"]), str(item["name"]), str(item["record_type"]), str(item["field"]),
                            tuple(str(w) for w in item["contains"]), bool(item.get("special", False)))  # fmt: skip
        except (KeyError, TypeError):
            raise SectorsInvalid(reason=f"第 {n} 项须有 key、name、record_type、field、contains") from None
        rtype = catalog.types.get(sector.record_type)
        spec = next((f for f in rtype.fields if f.code == sector.field), None) if rtype else None
        if spec is None or spec.kind != "text" or not sector.contains:
            raise SectorsInvalid(reason=f"{sector.key}：信息类别 {sector.record_type} 没有文本字段 {sector.field}，或未列出关键词")
        found[sector.key] = sector
    return found


def sectors(settings: Settings) -> dict[str, Sector]:
    return _sectors(settings.inspections_sectors_file or BUILTIN_SECTORS, tuple(settings.catalog_dirs))


def _holders(sector: Sector, today: date) -> Any:
    """Subjects holding a record of the sector in force on `today` (a subquery of subject ids)."""
    text = Record.payload[sector.field].as_string()
    return select(Record.subject_id).where(
        Record.record_type == sector.record_type, Record.status == RecordStatus.ACTIVE.value,
        Record.decision_date <= today, or_(Record.valid_until.is_(None), Record.valid_until >= today),
        or_(*(text.contains(word, autoescape=True) for word in sector.contains)),
    )  # fmt: skip


def _label(actor: Actor | str) -> str:
    return (actor.label if isinstance(actor, Actor) else str(actor))[:100]


def _roster(session: Session, plan_id: int, usccs: set[str] | None = None) -> list[RosterEntry]:
    rows = session.scalars(select(Inspector).join(PlanInspector, PlanInspector.inspector_id == Inspector.id)
                           .where(PlanInspector.plan_id == plan_id)).all()  # fmt: skip
    return roster.with_exclusions(session, list(rows), usccs)


# ------------------------------------------------------------------------------------------ plans


@dataclass
class PlanDraft:
    matter: str
    period_start: date
    period_end: date
    kinds: list[str]
    regions: list[str]
    sector: str | None
    special_domains: list[str]
    ratios: dict[str, str]  # grade → percent as typed; grades not named take the configured default
    inspectors: list[str]  # badge numbers; empty: every active inspector of the department


def _clean_draft(draft: PlanDraft, grades: list[str], settings: Settings) -> dict[str, Any]:
    matter = " ".join(draft.matter.split())
    if not 2 <= len(matter) <= 200:
        raise InvalidInput(reason="请填写抽查事项（2–200 字）")
    if draft.period_end < draft.period_start:
        raise InvalidInput(reason="抽查期间的结束日期不能早于开始日期")
    kinds = sorted(set(draft.kinds or PLAN_KINDS))
    if not set(kinds) <= set(PLAN_KINDS):
        raise InvalidInput(reason="随机抽查的对象只能是法人及非法人组织和个体工商户")
    regions = sorted({r.strip() for r in draft.regions if r.strip()})
    if any(not r.isdigit() or not 2 <= len(r) <= 6 for r in regions):
        raise InvalidInput(reason="区域应为 2–6 位行政区划代码（如 330521）")
    known = sectors(settings)
    if draft.sector and draft.sector not in known:
        raise InvalidInput(reason=f"未知的行业“{draft.sector}”（可选：{'、'.join(known)}）")
    special = list(dict.fromkeys(draft.special_domains))
    unknown = [d for d in special if d not in known or not known[d].special]
    if unknown:
        raise InvalidInput(reason=f"未知的重点领域“{'、'.join(unknown)}”（可选：{'、'.join(k for k, s in known.items() if s.special)}）")
    strange = sorted(set(draft.ratios) - set(grades))
    if strange:
        raise InvalidInput(reason=f"评价模型中没有等级 {'、'.join(strange)}（等级：{'、'.join(grades)}）")
    ratios = {}
    for grade in grades:
        given: Any = draft.ratios.get(grade)
        if given is None or str(given).strip() == "":
            given = settings.inspections_default_ratios.get(grade)
            if given is None:
                raise InvalidInput(reason=f"请为 {grade} 级设置抽查比例（配置中也没有默认比例）")
        ratios[grade] = str(rules.parse_ratio(given))
    return {"matter": matter, "kinds": kinds, "regions": regions, "sector": draft.sector or None,
            "special": special, "ratios": ratios}  # fmt: skip


def _latest_grades(session: Session, settings: Settings) -> tuple[Any, list[str]]:
    run = evaluation_service.latest_run(session)
    if run is None:
        raise NoEvaluation()
    _, row = evaluation_service.get_run(session, run.id)
    model = evaluation_service.model_of(session, row, settings=settings)
    return run, [g.symbol for g in model.grades]


def create_plan(session: Session, draft: PlanDraft, *, department: Department, actor: Actor | str,
                settings: Settings, today: date) -> InspectionPlan:  # fmt: skip
    """A plan, checked against the latest evaluation: ratios for each of its grades, a roster, a population,
    and no inspector who would have to step aside for everyone."""
    run, grades = _latest_grades(session, settings)
    values = _clean_draft(draft, grades, settings)
    if draft.inspectors:
        inspectors = [roster.inspector_by_badge(session, badge) for badge in dict.fromkeys(draft.inspectors)]
        inactive = [i.badge_no for i in inspectors if not i.is_active]
        if inactive:
            raise InvalidInput(reason=f"检查人员 {'、'.join(inactive)} 已不在岗")
    else:
        inspectors = list(session.scalars(select(Inspector).where(Inspector.department_id == department.id,
                                                                  Inspector.is_active.is_(True))))  # fmt: skip
    if not inspectors:
        raise RosterEmpty()
    per_subject = settings.inspections_inspectors_per_subject
    if len(inspectors) < per_subject:
        raise RosterTooSmall(needed=per_subject, count=len(inspectors))
    plan = InspectionPlan(
        number=rules.plan_number(today), matter=values["matter"], department_id=department.id,
        period_start=draft.period_start, period_end=draft.period_end,
        population={"kinds": values["kinds"], "regions": values["regions"], "sector": values["sector"]},
        ratios=values["ratios"], special_domains=values["special"], inspectors_per_subject=per_subject,
        status=PlanStatus.DRAFT.value, created_by=_label(actor),
    )  # fmt: skip
    with session.begin_nested():  # a refused plan leaves nothing behind, whatever the caller does next
        session.add(plan)
        session.flush()  # the sector matches, the roster rows and the audit entry name it
        known = sectors(settings)
        for key in dict.fromkeys([*([values["sector"]] if values["sector"] else []), *values["special"]]):
            session.execute(insert(PlanSectorMember.__table__).from_select(
                ["plan_id", "sector", "subject_id"],
                select(literal(plan.id), literal(key), _holders(known[key], today).subquery().c.subject_id).distinct(),
            ))  # fmt: skip
        members = population(session, plan, run_id=run.id)
        if not members:
            raise PopulationEmpty()
        usccs = {m.uscc for m in members}
        for entry in rules.excluded_everywhere(roster.with_exclusions(session, inspectors, usccs), usccs):
            raise InspectorExcludedEverywhere(name=entry.name, badge=entry.badge)
    session.add_all(PlanInspector(plan_id=plan.id, inspector_id=i.id) for i in inspectors)
    audit.record(session, AuditAction.INSPECTION_PLAN_CREATED, actor=actor, department_id=department.id,
                 target=f"inspection-plan:{plan.id}", details={
                     "number": plan.number, "matter": plan.matter, "population": plan.population,
                     "ratios": plan.ratios, "special_domains": plan.special_domains,
                     "inspectors": [i.badge_no for i in inspectors], "population_now": len(members)})  # fmt: skip
    return plan


def population(session: Session, plan: InspectionPlan, *, run_id: int) -> list[Member]:
    """The plan's population graded by run `run_id`, sorted by USCC, each with its grade and special domain
    (the sector and special-domain matches are the plan's own, taken when it was made)."""
    graded = evaluation_service.grades_of_run(run_id)
    matches = PlanSectorMember.__table__.c
    filters = plan.population
    query = (
        select(Subject.id, Subject.uscc, graded.c.grade)
        .join(graded, graded.c.subject_id == Subject.id)
        .where(Subject.kind.in_(filters.get("kinds") or PLAN_KINDS), Subject.uscc.is_not(None))
    )
    regions = filters.get("regions") or []
    if regions:
        query = query.where(or_(*(func.substr(Subject.uscc, 3, len(r)) == r for r in regions)))
    if filters.get("sector"):
        query = query.where(Subject.id.in_(select(matches.subject_id).where(matches.plan_id == plan.id,
                                                                            matches.sector == filters["sector"])))  # fmt: skip
    connection = session.connection()
    domains: dict[int, str] = {}
    for key in reversed(plan.special_domains or []):  # the first domain named wins
        for (subject_id,) in connection.execute(select(matches.subject_id).where(matches.plan_id == plan.id,
                                                                                 matches.sector == key)):  # fmt: skip
            domains[subject_id] = key
    rows = connection.execute(query).all()  # fetched at once: a million rows one by one cost seconds
    members = [Member(uscc, grade, domains.get(subject_id, ""), subject_id) for subject_id, uscc, grade in rows]
    members.sort(key=attrgetter("uscc"))
    return members


# ------------------------------------------------------------------------------------------ the draw


def _own_plan(plan: InspectionPlan, actor: Actor) -> None:
    if not actor.can_reach(plan.department_id):
        raise PermissionDenied("只能操作本部门的抽查计划")


def draw_of(session: Session, plan_id: int) -> InspectionDraw | None:
    return session.scalar(select(InspectionDraw).where(InspectionDraw.plan_id == plan_id))


def draw_plan(session: Session, plan_id: int, *, seed: int, actor: Actor, settings: Settings, today: date
              ) -> InspectionDraw:  # fmt: skip
    """Draw the plan's subjects and inspectors with `seed`, recorded and audited in this transaction. The same
    seed again gives the recorded draw; another seed is refused (audited)."""
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInput(reason=f"随机种子应为 0–{MAX_SEED} 之间的整数")
    plan = get_plan(session, plan_id, actor=actor)
    _own_plan(plan, actor)
    existing = draw_of(session, plan.id)
    if existing is not None:
        if existing.seed == seed:
            return existing
        is_published = plan.status == PlanStatus.PUBLISHED.value
        audit.record(session, AuditAction.INSPECTION_REDRAW_REFUSED, actor=actor, department_id=plan.department_id,
                     target=f"inspection-plan:{plan.id}", details={
                         "number": plan.number, "seed_asked": seed, "seed_recorded": existing.seed,
                         "published": is_published})  # fmt: skip
        raise RedrawRefused(day=existing.on_day.isoformat(), seed=existing.seed,
                            published="并已公示" if is_published else "")  # fmt: skip
    rules.next_status(PlanStatus(plan.status), "draw")
    run, grades = _latest_grades(session, settings)
    members = population(session, plan, run_id=run.id)
    if not members:
        raise PopulationEmpty()
    usccs = {m.uscc for m in members}
    entries = _roster(session, plan.id, usccs)
    if not entries:
        raise RosterEmpty()
    for entry in rules.excluded_everywhere(entries, usccs):
        raise InspectorExcludedEverywhere(name=entry.name, badge=entry.badge)
    ratios = {g: rules.parse_ratio(plan.ratios[g]) for g in grades if g in plan.ratios}
    missing = [g for g in grades if g not in ratios]
    if missing:
        raise InvalidInput(reason=f"计划没有 {'、'.join(missing)} 级的抽查比例（评价模型已更换），请重新制定计划")
    result = rules.draw(members, grades=grades, ratios=ratios, seed=seed, roster=entries,
                        per_subject=plan.inspectors_per_subject)  # fmt: skip
    snapshot = rules.snapshot_text(members)
    row = InspectionDraw(
        plan_id=plan.id, seed=seed, evaluation_run_id=run.id, on_day=today, population_size=len(members),
        population_digest=rules.digest(snapshot), population=zlib.compress(snapshot.encode("utf-8"), 1),
        roster=[r.as_dict() for r in entries], strata=result.strata, drawn=len(result.drawn),
        result_digest=result.digest, actor=_label(actor),
    )  # fmt: skip
    session.add(row)
    # The inspector ids as the JSON text SQLAlchemy would write ("[3, 12]"), made here: 300,000 rows at a time.
    bulk_insert(session, InspectionAssignment.__table__, [
        (plan.id, d.member.subject_id, n, d.member.grade, d.member.domain or None,
         "[" + ", ".join(str(r.inspector_id) for r in d.inspectors) + "]")
        for n, d in enumerate(result.drawn, start=1)
    ], columns=["plan_id", "subject_id", "position", "grade", "special_domain", "inspector_ids"],
        json_encoded=True)  # fmt: skip
    plan.status = PlanStatus.DRAWN.value
    audit.record(session, AuditAction.INSPECTION_DRAWN, actor=actor, department_id=plan.department_id,
                 target=f"inspection-plan:{plan.id}", details={
                     "number": plan.number, "seed": seed, "evaluation_run": run.id,
                     "population_size": len(members), "population_digest": row.population_digest,
                     "drawn": row.drawn, "result_digest": row.result_digest, "strata": result.strata})  # fmt: skip
    session.flush()
    return row


def verify_draw(session: Session, plan: InspectionPlan) -> tuple[bool, str, str]:
    """Draw again from the recorded snapshot, seed and roster: (same result?, recorded digest, recomputed)."""
    row = draw_of(session, plan.id)
    if row is None:
        raise NotFound(what="该计划的抽取记录")
    snapshot = zlib.decompress(row.population).decode("utf-8")
    if rules.digest(snapshot) != row.population_digest:
        return False, row.result_digest, "population-digest-mismatch"
    entries = [RosterEntry(r["id"], r["badge"], r["name"], frozenset(r["excluded"])) for r in row.roster]
    grades = [g for g in row.strata if g != rules.SPECIAL]
    ratios = {g: rules.parse_ratio(row.strata[g]["asked"]) for g in grades}
    again = rules.draw(rules.parse_snapshot(snapshot), grades=grades, ratios=ratios, seed=row.seed, roster=entries,
                       per_subject=plan.inspectors_per_subject)  # fmt: skip
    return again.digest == row.result_digest, row.result_digest, again.digest


def publish_plan(session: Session, plan_id: int, *, actor: Actor, settings: Settings, today: date) -> InspectionPlan:
    """一公开: the plan, its draw and (as they come) its results go on the portal."""
    plan = get_plan(session, plan_id, actor=actor)
    _own_plan(plan, actor)
    plan.status = rules.next_status(PlanStatus(plan.status), "publish").value
    plan.published_on = today
    plan.publish_until = max(today, plan.period_end) + timedelta(days=settings.inspections_publicity_days)
    audit.record(session, AuditAction.INSPECTION_PUBLISHED, actor=actor, department_id=plan.department_id,
                 target=f"inspection-plan:{plan.id}", details={"number": plan.number,
                                                              "publish_until": plan.publish_until.isoformat()})  # fmt: skip
    return plan


# ------------------------------------------------------------------------------------------ results


def result_type(settings: Settings) -> RecordType:
    """The catalogue type inspection results are recorded as: the one whose fields declare the role `result`."""
    found = [t for t in load_catalog(settings.catalog_dirs).types.values() if t.field_by_role(RESULT_ROLE)]
    if len(found) != 1:
        raise SectorsInvalid(reason=f"信用信息目录中应有且只有一个信息类别含角色为 {RESULT_ROLE} 的字段（检查结果），现有 {len(found)} 个")
    return found[0]


def outcomes(settings: Settings) -> tuple[str, ...]:
    spec = result_type(settings).field_by_role(RESULT_ROLE)
    return spec.values if spec else ()


def record_result(session: Session, assignment_id: int, *, department: Department, outcome: str, note: str,
                  inspected_on: date, actor: Actor | str, settings: Settings, protector: Protector, today: date,
                  source: BatchSource = BatchSource.API) -> InspectionAssignment:  # fmt: skip
    """The inspecting department records a result; it becomes a record of the catalogue's result type (see
    `result_type`) through the ingestion pipeline (which commits its batch), then the assignment points at it
    (audited)."""
    assignment = session.get(InspectionAssignment, assignment_id)
    if assignment is None:
        raise NotFound(what="该检查对象")
    plan = get_plan(session, assignment.plan_id, actor=actor)
    if department.id != plan.department_id:
        owner = session.get(Department, plan.department_id)
        raise OtherDepartment(department=owner.name if owner else "")
    if plan.status == PlanStatus.DRAFT.value:
        raise InvalidTransition(state=PlanStatus.DRAFT.label, action=rules.ACTION_LABELS["result"])
    if assignment.outcome is not None:
        raise AlreadyExists(what="该检查对象的检查结果")
    if outcome not in outcomes(settings):
        raise InvalidInput(reason=f"检查结果应为：{'、'.join(outcomes(settings))}")
    if inspected_on > today or inspected_on < plan.period_start:
        raise InvalidInput(reason=f"检查日期应在抽查期间开始（{plan.period_start.isoformat()}）之后、今天之前")
    note = " ".join(note.split())[:2000]
    subject = session.get(Subject, assignment.subject_id)
    assert subject is not None
    rtype = result_type(settings)

    def code(role: str) -> str:
        found = rtype.role_code(role)
        if found is None:
            raise SectorsInvalid(reason=f"信息类别 {rtype.key} 缺少角色为 {role} 的字段")
        return found

    doc_no = f"{plan.number}-{assignment.position:05d}"
    row = {code("subject_name"): subject.name, code("subject_kind"): KIND_LABELS[subject.kind], code("uscc"): subject.uscc,
           code("doc_no"): doc_no, code("matter"): plan.matter, code("result"): outcome,
           code("decision_date"): inspected_on.isoformat(), code("authority_name"): department.name,
           code("authority_code"): department.code, code("source_name"): department.name,
           code("source_code"): department.code}  # fmt: skip
    label = _label(actor)
    imported = records_service.import_rows(session, [row], settings=settings, protector=protector,
                                           record_type=rtype.key, department=department, actor=label, source=source,
                                           today=today)  # fmt: skip
    begin_writing(session)  # the pipeline committed: the rest of the act as a writer's transaction (db.begin_writing)
    record = session.scalar(select(Record).where(Record.department_id == department.id,
                                                 Record.record_type == rtype.key, Record.doc_no == doc_no))  # fmt: skip
    if imported.created != 1 or record is None:
        problems = records_service.iter_problems(session, imported.batch_id, severity="error")
        first = next(iter(problems), None)
        raise InvalidInput(reason=f"检查结果未能记入信用记录：{first.message if first else '未知原因'}")
    assignment.outcome, assignment.note, assignment.inspected_on = outcome, note or None, inspected_on
    assignment.record_id, assignment.recorded_by, assignment.recorded_at = record.id, label, utcnow()
    audit.record(session, AuditAction.INSPECTION_RESULT_RECORDED, actor=actor, department_id=department.id,
                 subject_id=subject.id, target=f"inspection-plan:{plan.id}",
                 details={"number": plan.number, "doc_no": doc_no, "outcome": outcome, "record_id": record.id})  # fmt: skip
    return assignment


# ------------------------------------------------------------------------------------------ reads


def _region_scope(session: Session, actor: Actor | str | None) -> DepartmentScope | None:
    """Whose plans the actor reads: a county's users (its 信用办, and its departments' staff, who read the
    plans of the other departments of their county for joint inspections) read their county's; the city's
    users and department systems (API keys) read every plan. None: no condition."""
    if not isinstance(actor, Actor):
        return None
    if actor.scope is not None:
        return actor.scope
    if not actor.is_department_bound:
        return None
    return departments_service.region_scope(session, actor.region)


def get_plan(session: Session, plan_id: int, *, actor: Actor | str | None = None) -> InspectionPlan:
    """A plan by id; another county's plan is not found."""
    plan = session.get(InspectionPlan, plan_id)
    scope = _region_scope(session, actor)
    if plan is None or (scope is not None and not scope.covers(plan.department_id, plan.created_at)):
        raise NotFound(what="该抽查计划")
    return plan


def plan_by_number(session: Session, number: str) -> InspectionPlan:
    plan = session.scalar(select(InspectionPlan).where(InspectionPlan.number == number.strip().upper()[:24]))
    if plan is None:
        raise NotFound(what=f"抽查计划 {number[:24]}")
    return plan


def list_plans(session: Session, *, department_id: int | None = None, limit: int = 100,
               actor: Actor | None = None) -> list[tuple[InspectionPlan, str]]:  # fmt: skip
    """The newest plans: the actor's county's for a county's users (see `_region_scope`)."""
    query = select(InspectionPlan, Department.name).join(Department, Department.id == InspectionPlan.department_id)
    scope = _region_scope(session, actor)
    if scope is not None:
        query = query.where(scope.clause(InspectionPlan.department_id, InspectionPlan.created_at))
    if department_id is not None:
        query = query.where(InspectionPlan.department_id == department_id)
    return [(r[0], r[1]) for r in session.execute(query.order_by(InspectionPlan.id.desc()).limit(limit))]


def public_plans(session: Session, *, today: date, scope: DepartmentScope | None = None) -> list[tuple[InspectionPlan, str]]:
    """The plans in their publication period; on a county's portal (`scope`), those of the county's departments
    (a plan made before its department moved stays where it was made)."""
    query = (select(InspectionPlan, Department.name).join(Department, Department.id == InspectionPlan.department_id)
             .where(_public(today)).order_by(InspectionPlan.published_on.desc(), InspectionPlan.id.desc()))  # fmt: skip
    if scope is not None:
        query = query.where(scope.clause(InspectionPlan.department_id, InspectionPlan.created_at))
    return [(r[0], r[1]) for r in session.execute(query.limit(200))]


def _public(today: date) -> Any:
    return and_(InspectionPlan.status == PlanStatus.PUBLISHED.value, InspectionPlan.published_on <= today,
                InspectionPlan.publish_until >= today)  # fmt: skip


def public_plan(session: Session, number: str, *, today: date, scope: DepartmentScope | None = None) -> InspectionPlan:
    """A plan in its publication period; on a county's portal, another county's plan is not found."""
    plan = session.scalar(select(InspectionPlan).where(InspectionPlan.number == number.strip().upper()[:24],
                                                       _public(today)))  # fmt: skip
    if plan is None or (scope is not None and not scope.covers(plan.department_id, plan.created_at)):
        raise NotFound(what="该抽查计划（或不在公示期内）")
    return plan


@dataclass(frozen=True)
class Stratum:
    label: str
    population: int
    asked: str  # percent, as the plan says
    drawn: int

    @property
    def drawn_percent(self) -> str:
        return f"{self.drawn * 100 / self.population:.1f}" if self.population else "—"


@dataclass
class PlanView:
    plan: InspectionPlan
    department: str
    draw: InspectionDraw | None
    strata: list[Stratum]
    assignments: list[dict[str, Any]]
    roster: list[Inspector]
    sector_names: dict[str, str]
    total: int = 0  # drawn subjects, all pages
    results: int = 0  # of which with a result
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // ASSIGNMENTS_PAGE))


ASSIGNMENTS_PAGE = 500


def plan_view(session: Session, plan: InspectionPlan, *, settings: Settings, with_inspectors: bool,
              page: int = 1) -> PlanView:  # fmt: skip
    """The plan, its draw's figures and one page of its drawn subjects (in the draw's order)."""
    department = session.get(Department, plan.department_id)
    row = draw_of(session, plan.id)
    known = sectors(settings)
    strata = []
    if row is not None:
        for key, figures in row.strata.items():
            label = "重点领域（不论等级）" if key == rules.SPECIAL else f"{key} 级"
            strata.append(Stratum(label, figures["population"], figures["asked"], figures["drawn"]))
    else:
        strata = [Stratum(f"{g} 级", 0, ratio, 0) for g, ratio in plan.ratios.items()]
    people = list(session.scalars(select(Inspector).join(PlanInspector, PlanInspector.inspector_id == Inspector.id)
                                  .where(PlanInspector.plan_id == plan.id).order_by(Inspector.badge_no)))  # fmt: skip
    names = {i.id: f"{i.name}（{i.badge_no}）" for i in people}
    total, results = session.execute(
        select(func.count(), func.count(InspectionAssignment.outcome)).where(InspectionAssignment.plan_id == plan.id)
    ).one()  # fmt: skip
    page = min(max(page, 1), max(1, -(-total // ASSIGNMENTS_PAGE)))
    assignments = []
    for assignment, subject in session.execute(
        select(InspectionAssignment, Subject).join(Subject, Subject.id == InspectionAssignment.subject_id)
        .where(InspectionAssignment.plan_id == plan.id).order_by(InspectionAssignment.position)
        .offset((page - 1) * ASSIGNMENTS_PAGE).limit(ASSIGNMENTS_PAGE)
    ):  # fmt: skip
        assignments.append({
            "a": assignment, "name": subject.name, "uscc": subject.uscc,
            "domain": known[assignment.special_domain].name if assignment.special_domain in known else None,
            "inspectors": [names.get(i, str(i)) for i in assignment.inspector_ids] if with_inspectors else [],
        })  # fmt: skip
    return PlanView(plan, department.name if department else "", row, strata, assignments, people,
                    {k: s.name for k, s in known.items()}, total, results, page)  # fmt: skip


def draw_document(session: Session, plan: InspectionPlan, *, settings: Settings) -> dict[str, Any]:
    """The draw as the CLI's --json prints it: subjects with their inspectors, the seed and the digests."""
    row = draw_of(session, plan.id)
    assert row is not None
    badges = {r["id"]: r["badge"] for r in row.roster}
    drawn = session.execute(
        select(Subject.uscc, Subject.name, InspectionAssignment.grade, InspectionAssignment.special_domain,
               InspectionAssignment.inspector_ids)
        .join(Subject, Subject.id == InspectionAssignment.subject_id)
        .where(InspectionAssignment.plan_id == plan.id).order_by(InspectionAssignment.position)
    ).all()  # fmt: skip
    return {
        "plan": plan.number, "seed": row.seed, "evaluation_run": row.evaluation_run_id, "on_day": row.on_day.isoformat(),
        "population_size": row.population_size, "population_digest": row.population_digest,
        "result_digest": row.result_digest, "strata": row.strata,
        "drawn": [{"uscc": uscc, "name": name, "grade": grade, "special_domain": domain,
                   "inspectors": [badges.get(i, str(i)) for i in ids]} for uscc, name, grade, domain, ids in drawn],
    }  # fmt: skip
