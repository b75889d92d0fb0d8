"""Use-cases of credit lists: list types, the listing procedure, expiry, and the membership queries.

Each procedure step is one function: it checks the transition table and the guards first (an illegal
move raises before anything is touched), then changes the entry, adds the event the subject sees and
appends the audit entry, all in the caller's transaction. Nothing here commits.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from xinyong import refcache
from xinyong.actors import Actor, DepartmentScope, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure, ensure_department
from xinyong.calendar.service import load_calendar
from xinyong.codes import CodeError, validate_uscc
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.lists import rules
from xinyong.lists.models import (
    EntryState,
    ListEntry,
    ListEvent,
    ListNature,
    ListOrigin,
    ListType,
)
from xinyong.lists.rules import Action
from xinyong.protect import Protector
from xinyong.regions import inherit
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

BUILTIN_TYPES = Path(__file__).parent / "types.toml"

AUDIT_OF = {
    Action.PROPOSE: AuditAction.LIST_PROPOSED,
    Action.NOTIFY: AuditAction.LIST_NOTIFIED,
    Action.OBJECT: AuditAction.LIST_OBJECTED,
    Action.DECIDE: AuditAction.LIST_DECIDED,
    Action.WITHDRAW: AuditAction.LIST_WITHDRAWN,
    Action.PUBLISH: AuditAction.LIST_PUBLISHED,
    Action.EXPIRE: AuditAction.LIST_EXPIRED,
    Action.REMOVE: AuditAction.LIST_REMOVED,
    Action.IMPORT: AuditAction.LIST_IMPORTED,
}


# ------------------------------------------------------------------------------------------ list types


@dataclass
class ListTypeSpec:
    key: str
    name: str
    nature: str
    origin: str
    legal_basis: str
    entry_criteria: str
    exit_conditions: str
    remedy_route: str
    duration_months: int | None = None
    # USCCs of the departments that decide entries (imported lists: through which they arrive). None: not stated,
    # so a reload keeps what the 信用办 set for this install (set_deciding_departments).
    deciding_departments: tuple[str, ...] | None = None
    objection_workdays: int | None = None
    source: str | None = None
    is_public: bool = True
    is_active: bool = True

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> ListTypeSpec:
        try:
            return cls(
                key=str(raw["key"]).strip(), name=str(raw["name"]).strip(), nature=str(raw["nature"]),
                origin=str(raw.get("origin", "local")), legal_basis=str(raw.get("legal_basis", "")).strip(),
                entry_criteria=str(raw.get("entry_criteria", "")).strip(),
                exit_conditions=str(raw.get("exit_conditions", "")).strip(),
                remedy_route=str(raw.get("remedy_route", "")).strip(),
                duration_months=raw.get("duration_months"),
                deciding_departments=(None if raw.get("deciding_departments") is None
                                      else tuple(str(c) for c in raw["deciding_departments"])),
                objection_workdays=raw.get("objection_workdays"), source=raw.get("source"),
                is_public=bool(raw.get("is_public", True)), is_active=bool(raw.get("is_active", True)),
            )  # fmt: skip
        except KeyError as exc:
            raise InvalidInput(reason=f"名单类型缺少 {exc.args[0]}") from None


def save_list_type(session: Session, spec: ListTypeSpec, *, actor: Actor, region: str | None = None) -> ListType:
    """Create or update a list type. Without a legal basis (and criteria, exit, remedy) it is refused; an imported
    list must name the body that decides it (its declared source).

    `region`: the region whose own type this is (a county's override of the key); default the actor's region,
    the platform's own for actors without one. A county's 信用办 saves its own region's types only."""
    ensure(actor, Permission.LIST_TYPES_WRITE)
    owner = inherit.for_actor(session, actor, region)
    rules.check_type_spec(key=spec.key, name=spec.name, legal_basis=spec.legal_basis, nature=spec.nature,
                          entry_criteria=spec.entry_criteria, exit_conditions=spec.exit_conditions,
                          remedy_route=spec.remedy_route, duration_months=spec.duration_months)  # fmt: skip
    try:
        origin = ListOrigin(spec.origin)
    except ValueError:
        raise InvalidInput(reason=f"未知的名单来源 {spec.origin}（local / imported）") from None
    if spec.objection_workdays is not None and not 1 <= spec.objection_workdays <= 60:
        raise InvalidInput(reason="异议期应为 1–60 个工作日")
    if origin is ListOrigin.IMPORTED and not (spec.source or "").strip():
        raise InvalidInput(reason=f"外部导入的名单“{spec.name}”须写明认定机关（source），导入只接受该来源")
    values: dict[str, Any] = {
        "name": spec.name, "nature": ListNature(spec.nature), "origin": origin, "legal_basis": spec.legal_basis,
        "entry_criteria": spec.entry_criteria, "exit_conditions": spec.exit_conditions,
        "remedy_route": spec.remedy_route, "duration_months": spec.duration_months,
        "objection_workdays": spec.objection_workdays, "source": (spec.source or "").strip() or None,
        "is_public": spec.is_public, "is_active": spec.is_active,
    }  # fmt: skip
    list_type = _own_type(session, spec.key, owner)
    if spec.deciding_departments is not None:
        values["deciding_departments"] = _clean_codes(spec.deciding_departments)
    elif list_type is None:
        # a region's override keeps the deciders of the type it overrides; a new type accepts no entries until
        # the 信用办 names its deciding departments
        inherited = find_type(session, spec.key, region=owner) if owner is not None else None
        values["deciding_departments"] = list(inherited.deciding_departments or []) if inherited else []
    if list_type is None:
        list_type = ListType(key=spec.key, region_code=owner, **values)
        session.add(list_type)
        session.flush()  # the audit entry names it
        changed = dict(values)
    else:
        changed = {k: v for k, v in values.items() if getattr(list_type, k) != v}
        if not changed:
            return list_type
        for name, value in changed.items():
            setattr(list_type, name, value)
        list_type.updated_at = utcnow()
    audit.record(session, AuditAction.LIST_TYPE_SAVED, actor=actor, target=f"list-type:{spec.key}",
                 details={"region": owner} | {k: str(v) if isinstance(v, ListNature | ListOrigin) else v
                                              for k, v in changed.items()})  # fmt: skip
    return list_type


def _own_type(session: Session, key: str, owner: str | None) -> ListType | None:
    """The type of `key` that belongs to `owner` itself (None: the platform's own), not an inherited one."""
    return session.scalar(select(ListType).where(
        ListType.key == key, ListType.region_code.is_(None) if owner is None else ListType.region_code == owner))  # fmt: skip


def load_types_file(session: Session, path: Path, *, actor: Actor, region: str | None = None) -> list[ListType]:
    """Every `[[types]]` of a TOML file; all or nothing (the caller commits)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(reason=f"无法读取名单类型文件：{exc}") from None
    return [save_list_type(session, ListTypeSpec.from_mapping(item), actor=actor, region=region)
            for item in raw.get("types", [])]  # fmt: skip


def find_type(session: Session, key: str, *, region: str | None = None) -> ListType | None:
    """The type of `key` in force in `region`: its own, else its nearest ancestor's, else the platform's."""
    regions = inherit.chain(session, region)
    rows = session.scalars(select(ListType).where(ListType.key == key, or_(
        ListType.region_code.is_(None), ListType.region_code.in_([r for r in regions if r is not None]))))  # fmt: skip
    return inherit.effective(rows, regions, key=lambda t: t.key, region=lambda t: t.region_code).get(key)


def get_type(session: Session, key: str, *, region: str | None = None) -> ListType:
    """The type of `key` in force in `region` (a department's region; None: the platform's own types)."""
    list_type = find_type(session, key, region=region)
    if list_type is None:
        raise NotFound(what=f"名单类型“{key}”")
    return list_type


ALL_REGIONS = "*"


def list_types(session: Session, *, origin: ListOrigin | None = None, active_only: bool = False,
               region: str | None = ALL_REGIONS) -> list[ListType]:  # fmt: skip
    """The list types in force in `region` (None: the platform's own); by default every region's rows."""
    query = select(ListType).order_by(ListType.origin, ListType.key, ListType.region_code)
    if origin is not None:
        query = query.where(ListType.origin == origin)
    if active_only:
        query = query.where(ListType.is_active.is_(True))
    rows = list(session.scalars(query))
    if region == ALL_REGIONS:
        return rows
    regions = inherit.chain(session, region)
    kept = inherit.effective(rows, regions, key=lambda t: t.key, region=lambda t: t.region_code)
    return [t for t in rows if kept.get(t.key) is t]


def visible_types(session: Session, actor: Actor) -> list[ListType]:
    """The list types the console shows an account: those in force in its region (every region's for the
    platform's own accounts)."""
    return list_types(session, region=ALL_REGIONS if inherit.is_platform_wide(session, actor) else actor.region)


def _clean_codes(codes: Iterable[str]) -> list[str]:
    cleaned = set()
    for code in codes:
        try:
            cleaned.add(validate_uscc(str(code)))
        except CodeError as exc:
            raise InvalidInput(reason=f"认定部门代码“{code}”有误：{exc.message}") from None
    return sorted(cleaned)


def set_deciding_departments(session: Session, type_key: str, *, codes: Iterable[str], actor: Actor,
                             region: str | None = None) -> ListType:  # fmt: skip
    """The departments that decide entries of a type (imported lists: through which they arrive), set by the
    信用办 for this install; audited. An empty set closes the type to new entries.

    Nothing is retroactive: entries already decided stay in force, and the department that listed a subject
    still publishes, removes (谁列入、谁移出) or withdraws what it decided; a department no longer named cannot
    propose, decide or import new ones."""
    ensure(actor, Permission.LIST_TYPES_WRITE)
    owner = inherit.for_actor(session, actor, region)
    list_type = _own_type(session, type_key, owner)
    if list_type is None:
        where = f"{inherit.label(session, owner)}自己的" if owner is not None else ""
        raise NotFound(what=f"{where}名单类型“{type_key}”（区划可先用 xinyong lists load-types --region 设置自己的名单类型）")
    cleaned = _clean_codes(codes)
    for code in cleaned:
        departments_service.get_department(session, code)  # NotFound (with how to register it) for a typo
    before = list(list_type.deciding_departments or [])
    if cleaned != sorted(before):
        list_type.deciding_departments = cleaned
        list_type.updated_at = utcnow()
        audit.record(session, AuditAction.LIST_TYPE_DECIDERS_SET, actor=actor, target=f"list-type:{list_type.key}",
                     details={"before": before, "after": cleaned})  # fmt: skip
    return list_type


def may_decide(list_type: ListType, department: Department) -> bool:
    """谁认定、谁列入: only a department the type names; a type that names none accepts no entries."""
    return department.code in (list_type.deciding_departments or [])


def ensure_decider(list_type: ListType, department: Department) -> None:
    """Refuse an entry of `list_type` in the name of `department` unless the type names it, saying why."""
    if not department.is_active:
        raise PermissionDenied(f"{department.name}已停用，不能列入或导入名单")
    if may_decide(list_type, department):
        return
    if not list_type.deciding_departments:
        raise PermissionDenied(f"“{list_type.name}”尚未设置认定部门，不接受列入或导入；"
                               f"请信用办先设置认定部门（xinyong lists set-deciders {list_type.key} 部门代码）")  # fmt: skip
    if list_type.origin is ListOrigin.IMPORTED:
        raise PermissionDenied(f"“{list_type.name}”只接受其声明来源（{list_type.source}）的名单；"
                               f"{department.name}不是该名单的来源部门，不能导入")  # fmt: skip
    raise PermissionDenied(f"{department.name}不是“{list_type.name}”的认定部门，不能列入（谁认定、谁列入）")


# --------------------------------------------------------------------------------------- the procedure


def get_entry(session: Session, entry_id: int, *, actor: Actor | None = None) -> ListEntry:
    entry = session.get(ListEntry, entry_id)
    if entry is None or (actor is not None and not actor.can_reach(entry.department_id, entry.created_at)):
        raise NotFound(what="该名单记录")  # another department's (bound) or county's (regional) entry
    return entry


def record_step(session: Session, entry: ListEntry, action: Action, source: EntryState | None, *, actor: Actor,
           today: date, note: str | None = None, details: dict[str, Any] | None = None) -> None:  # fmt: skip
    session.add(ListEvent(entry_id=entry.id, action=action.value, from_state=source.value if source else None,
                          to_state=entry.state.value, on_day=today, actor=actor.label[:100], note=note,
                          details=details or {}))  # fmt: skip
    list_type = session.get(ListType, entry.list_type_id)
    audit.record(session, AUDIT_OF[action], actor=actor, department_id=entry.department_id,
                 subject_id=entry.subject_id, target=f"list-entry:{entry.id}", reason=note,
                 details={"list_type": list_type.key if list_type else None,
                          "from": source.value if source else None, "to": entry.state.value, **(details or {})})  # fmt: skip


def _move(session: Session, entry: ListEntry, action: Action, *, actor: Actor, today: date,
          answer: str | None = None) -> EntryState:  # fmt: skip
    """Check the table and the guards; returns the target state. Raises before anything changes."""
    target = rules.next_state(entry.state, action)
    rules.check_guards(rules.Facts(entry.state, entry.objection_deadline, entry.objection, entry.objection_answer),
                       action, today, answer=answer)  # fmt: skip
    return target


def propose(
    session: Session, *, type_key: str, subject_code: str, reasons: str, basis: str | None,
    department: Department, actor: Actor, protector: Protector, today: date,
) -> ListEntry:  # fmt: skip
    """A department proposes to list a subject on a local list (拟列入), of the type in force in its region."""
    list_type = get_type(session, type_key, region=department.region)
    ensure_department(actor, department.id)
    if list_type.origin is not ListOrigin.LOCAL:
        raise InvalidInput(reason=f"“{list_type.name}”由外部认定，只能导入，不能在本平台提出列入")
    if not list_type.is_active:
        raise InvalidInput(reason=f"名单类型“{list_type.name}”已停用")
    ensure_decider(list_type, department)
    target = rules.next_state(None, Action.PROPOSE)
    reasons = rules.require_text(reasons, "列入事由")
    subject = subjects_service.get_subject(session, subject_code, protector)
    open_states = [s.value for s in EntryState if s not in rules.FINAL_STATES]
    duplicate = session.scalar(select(ListEntry.id).where(
        ListEntry.list_type_id == list_type.id, ListEntry.subject_id == subject.id, ListEntry.state.in_(open_states)))  # fmt: skip
    if duplicate:
        raise AlreadyExists(what=f"该主体在“{list_type.name}”中未结束的名单记录（编号 {duplicate}）")
    entry = ListEntry(list_type_id=list_type.id, subject_id=subject.id, subject_name=subject.name,
                      department_id=department.id, origin=ListOrigin.LOCAL, state=target, reasons=reasons,
                      basis=rules.optional_text(basis) or list_type.legal_basis)  # fmt: skip
    session.add(entry)
    session.flush()  # the event and the audit entry name it
    record_step(session, entry, Action.PROPOSE, None, actor=actor, today=today, note=reasons)
    return entry


def notify(session: Session, entry_id: int, *, rights: str | None, actor: Actor, settings: Settings,
           today: date) -> ListEntry:  # fmt: skip
    """Prior notice (告知): reasons, basis, rights and the last day to object, counted in working days."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    target = _move(session, entry, Action.NOTIFY, actor=actor, today=today)
    list_type = session.get(ListType, entry.list_type_id)
    assert list_type is not None
    workdays = list_type.objection_workdays or settings.lists_objection_workdays
    deadline = rules.objection_deadline(load_calendar(session, region=_region_of(session, entry)), today, workdays)
    rights_text = rules.optional_text(rights) or default_rights(list_type, workdays)
    entry.state, entry.rights, entry.notified_on, entry.objection_deadline = target, rights_text, today, deadline
    entry.updated_at = utcnow()
    record_step(session, entry, Action.NOTIFY, source, actor=actor, today=today, note=rights_text,
           details={"objection_deadline": deadline.isoformat(), "workdays": workdays})  # fmt: skip
    return entry


def _region_of(session: Session, entry: ListEntry) -> str | None:
    """The region whose calendar counts an entry's working days: its department's."""
    department = session.get(Department, entry.department_id)
    return department.region if department is not None else None


def default_rights(list_type: ListType, workdays: int) -> str:
    return (f"当事人有权在收到本告知之日起 {workdays} 个工作日内提出陈述、申辩和异议，并提交相关证明材料；"
            f"逾期未提出的，视为放弃。救济途径：{list_type.remedy_route}")  # fmt: skip


def record_objection(session: Session, entry_id: int, *, text: str, actor: Actor, today: date) -> ListEntry:
    """The subject's objection, inside the window (registered by the department that received it)."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    target = _move(session, entry, Action.OBJECT, actor=actor, today=today)
    text = rules.require_text(text, "异议内容")
    entry.state, entry.objection, entry.objected_on = target, text, today
    entry.updated_at = utcnow()
    record_step(session, entry, Action.OBJECT, source, actor=actor, today=today, note=text)
    return entry


def decide(session: Session, entry_id: int, *, decision_no: str, answer: str | None, actor: Actor,
           settings: Settings, today: date) -> ListEntry:  # fmt: skip
    """The listing decision; an objection must be answered in it. Sets the validity and publication deadline."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    target = _move(session, entry, Action.DECIDE, actor=actor, today=today, answer=answer)
    decision_no = rules.require_text(decision_no, "决定文书号", min_length=2)[:128]
    list_type = session.get(ListType, entry.list_type_id)
    assert list_type is not None
    department = session.get(Department, entry.department_id)
    assert department is not None
    ensure_decider(list_type, department)  # the type's deciding departments when the decision is made
    if source is EntryState.OBJECTED:
        entry.objection_answer = rules.require_text(answer, "异议答复")
    deadline = rules.publish_deadline(load_calendar(session, region=_region_of(session, entry)), today,
                                      settings.lists_publish_workdays)  # fmt: skip
    entry.state, entry.decision_no, entry.decided_on, entry.publish_deadline = target, decision_no, today, deadline
    entry.valid_from = today
    entry.valid_until = rules.validity_end(today, list_type.duration_months)
    entry.updated_at = utcnow()
    record_step(session, entry, Action.DECIDE, source, actor=actor, today=today, note=entry.objection_answer,
           details={"decision_no": decision_no, "publish_deadline": deadline.isoformat(),
                    "valid_until": entry.valid_until.isoformat() if entry.valid_until else None})  # fmt: skip
    return entry


def withdraw(session: Session, entry_id: int, *, reason: str, actor: Actor, today: date) -> ListEntry:
    """Decide not to list (an objection upheld, or the facts do not hold)."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    _move(session, entry, Action.WITHDRAW, actor=actor, today=today, answer=reason)
    reason = rules.require_text(reason, "不予列入的理由")
    if source is EntryState.OBJECTED:
        entry.objection_answer = reason
    entry.state, entry.ended_on, entry.exit_reason = EntryState.WITHDRAWN, today, reason
    entry.updated_at = utcnow()
    record_step(session, entry, Action.WITHDRAW, source, actor=actor, today=today, note=reason)
    return entry


def publish(session: Session, entry_id: int, *, actor: Actor, today: date) -> ListEntry:
    """Publication (公示); after the deadline it still happens, marked late."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    target = _move(session, entry, Action.PUBLISH, actor=actor, today=today)
    entry.state, entry.published_on = target, today
    entry.is_published_late = bool(entry.publish_deadline and today > entry.publish_deadline)
    entry.updated_at = utcnow()
    record_step(session, entry, Action.PUBLISH, source, actor=actor, today=today,
           details={"late": entry.is_published_late})  # fmt: skip
    return entry


def remove(session: Session, entry_id: int, *, reason: str, actor: Actor, today: date) -> ListEntry:
    """Early exit (移出) with a reason; only the department that listed (谁列入、谁移出)."""
    entry = get_entry(session, entry_id, actor=actor)
    source = entry.state
    target = _move(session, entry, Action.REMOVE, actor=actor, today=today)
    reason = rules.require_text(reason, "移出理由")
    entry.state, entry.ended_on, entry.exit_reason = target, today, reason
    entry.updated_at = utcnow()
    record_step(session, entry, Action.REMOVE, source, actor=actor, today=today, note=reason)
    return entry


def expire_due(session: Session, *, today: date, actor: Actor | None = None, batch: int = 1000) -> int:
    """Entries whose validity ended before `today` leave the list (期满自动移出). Idempotent; the caller
    commits. Queries never depended on it: they filter by date themselves."""
    actor = actor or Actor.system("job:lists-expire")
    count = 0
    while True:
        due = list(session.scalars(
            select(ListEntry).where(ListEntry.state == EntryState.PUBLISHED.value, ListEntry.valid_until < today)
            .order_by(ListEntry.id).limit(batch)
        ))  # fmt: skip
        if not due:
            return count
        for entry in due:
            source = entry.state
            entry.state = rules.next_state(source, Action.EXPIRE)
            entry.ended_on = entry.valid_until
            entry.exit_reason = "有效期届满"
            entry.updated_at = utcnow()
            record_step(session, entry, Action.EXPIRE, source, actor=actor, today=today,
                   details={"valid_until": entry.valid_until.isoformat() if entry.valid_until else None})  # fmt: skip
            count += 1
        session.flush()


# ----------------------------------------------------------------------------------------------- reads


def in_force_clause(today: date) -> ColumnElement[bool]:
    """The SQL form of rules.is_in_force: published and inside the validity dates of `today`."""
    return and_(
        ListEntry.state == EntryState.PUBLISHED.value,
        ListEntry.valid_from <= today,
        or_(ListEntry.valid_until.is_(None), ListEntry.valid_until >= today),
    )


@dataclass(frozen=True)
class Membership:
    entry_id: int
    subject_id: int
    type_key: str
    type_name: str
    nature: str
    origin: str
    legal_basis: str
    reasons: str
    department: str
    source: str | None
    decision_no: str | None
    valid_from: date | None
    valid_until: date | None
    is_public: bool
    remedy_route: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "list_type": self.type_key, "list_name": self.type_name, "nature": self.nature, "origin": self.origin,
            "legal_basis": self.legal_basis, "reasons": self.reasons, "department": self.department,
            "source": self.source, "decision_no": self.decision_no,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "remedy_route": self.remedy_route,
        }  # fmt: skip


_e = ListEntry.__table__.c
# Built once: the same query runs on every credit check (see in_force_clause for the rule it applies).
_MEMBERSHIPS = (
    select(_e.id, _e.subject_id, _e.list_type_id, _e.reasons, _e.department_id, _e.source, _e.decision_no,
           _e.source_ref, _e.valid_from, _e.valid_until)
    .where(_e.subject_id.in_(bindparam("ids", expanding=True)), _e.state == EntryState.PUBLISHED.value,
           _e.valid_from <= bindparam("today"), or_(_e.valid_until.is_(None), _e.valid_until >= bindparam("today")))
    .order_by(_e.subject_id, _e.id)
)  # fmt: skip


def memberships(session: Session, subject_ids: list[int], *, today: date) -> dict[int, list[Membership]]:
    """Memberships in force on `today`, per subject; a few queries whatever the number of subjects."""
    found: dict[int, list[Membership]] = defaultdict(list)
    if not subject_ids:
        return found
    types = _types_by_id(session)
    departments = departments_service.names_by_id(session)
    for start in range(0, len(subject_ids), 900):
        rows = session.connection().execute(_MEMBERSHIPS, {"ids": subject_ids[start : start + 900], "today": today})
        for row in rows:
            t = types[row.list_type_id]
            if not t.is_active:
                continue
            found[row.subject_id].append(Membership(
                row.id, row.subject_id, t.key, t.name, t.nature.value, t.origin.value, t.legal_basis, row.reasons,
                departments.get(row.department_id, ""), row.source, row.decision_no or row.source_ref,
                row.valid_from, row.valid_until, t.is_public, t.remedy_route,
            ))  # fmt: skip
    return found


@dataclass(frozen=True)
class _TypeRow:
    key: str
    name: str
    nature: ListNature
    origin: ListOrigin
    legal_basis: str
    is_public: bool
    is_active: bool
    remedy_route: str


refcache.watch(ListType)


def _types_by_id(session: Session) -> dict[int, _TypeRow]:
    """List types are a few dozen rows read on every check: kept in the per-process reference cache."""
    return refcache.get(session, "lists.types", _load_types)


def _load_types(session: Session) -> dict[int, _TypeRow]:
    return {t.id: _TypeRow(t.key, t.name, t.nature, t.origin, t.legal_basis, t.is_public, t.is_active, t.remedy_route)
            for t in session.scalars(select(ListType))}  # fmt: skip


def memberships_between(session: Session, subject_id: int, *, start: date, end: date
                        ) -> list[tuple[Membership, EntryState, date | None]]:  # fmt: skip
    """Entries of the subject that were in force on some day of [start, end] (published, whether still in force,
    expired or removed since), with their state and the day they ended: what a report over a span lists."""
    types = _types_by_id(session)
    departments = departments_service.names_by_id(session)
    rows = session.scalars(select(ListEntry).where(
        ListEntry.subject_id == subject_id, ListEntry.published_on.is_not(None),
        ListEntry.state.in_([EntryState.PUBLISHED.value, EntryState.EXPIRED.value, EntryState.REMOVED.value]),
        ListEntry.valid_from <= end, or_(ListEntry.valid_until.is_(None), ListEntry.valid_until >= start),
        or_(ListEntry.ended_on.is_(None), ListEntry.ended_on >= start),
    ).order_by(ListEntry.valid_from.desc(), ListEntry.id.desc()))  # fmt: skip
    found = []
    for e in rows:
        t = types[e.list_type_id]
        if not t.is_active:
            continue
        found.append((Membership(
            e.id, e.subject_id, t.key, t.name, t.nature.value, t.origin.value, t.legal_basis, e.reasons,
            departments.get(e.department_id, ""), e.source, e.decision_no or e.source_ref, e.valid_from,
            e.valid_until, t.is_public, t.remedy_route,
        ), e.state, e.ended_on))  # fmt: skip
    return found


def public_memberships(session: Session, subject: Subject, *, today: date) -> list[Membership]:
    """What the portal profile shows: memberships in force on public lists."""
    return [m for m in memberships(session, [subject.id], today=today).get(subject.id, []) if m.is_public]


def _ids_of_key(session: Session, key: str) -> list[int]:
    """The ids of every region's type of one key: a county's override is the same list."""
    return list(session.scalars(select(ListType.id).where(ListType.key == key)))


def public_entries(session: Session, type_key: str, *, today: date, offset: int, limit: int,
                   scope: DepartmentScope | None = None, region: str | None = None,
                   ) -> tuple[ListType, list[tuple[ListEntry, Subject]], int]:  # fmt: skip
    """A public list as the portal shows it: in force today, never natural persons in bulk. The type shown is
    the one in force in `region`; its entries are the key's, whichever region's type they were made on; a
    county's portal (`scope`) shows the entries its departments decided."""
    list_type = get_type(session, type_key, region=region)
    if not list_type.is_public or not list_type.is_active:
        raise NotFound(what="该公示名单")
    where = [ListEntry.list_type_id.in_(_ids_of_key(session, list_type.key)), in_force_clause(today),
             Subject.kind != SubjectKind.PERSON.value]  # fmt: skip
    if scope is not None:
        where.append(scope.clause(ListEntry.department_id, ListEntry.created_at))
    base = select(ListEntry, Subject).join(Subject, Subject.id == ListEntry.subject_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.with_only_columns(ListEntry.id).subquery())) or 0
    rows = session.execute(base.order_by(ListEntry.valid_from.desc(), ListEntry.id.desc()).offset(offset).limit(limit))
    return list_type, [(r[0], r[1]) for r in rows], total


def public_type_counts(session: Session, *, today: date, scope: DepartmentScope | None = None,
                       region: str | None = None) -> list[tuple[ListType, int]]:  # fmt: skip
    types = [t for t in list_types(session, active_only=True, region=region) if t.is_public]
    where = [in_force_clause(today), Subject.kind != SubjectKind.PERSON.value]
    if scope is not None:  # a county's portal
        where.append(scope.clause(ListEntry.department_id, ListEntry.created_at))
    counts = dict(session.execute(
        select(ListEntry.list_type_id, func.count()).join(Subject, Subject.id == ListEntry.subject_id)
        .where(*where).group_by(ListEntry.list_type_id)
    ).all())  # fmt: skip
    by_key: dict[str, int] = defaultdict(int)
    for type_id, key in session.execute(select(ListType.id, ListType.key)):
        by_key[key] += counts.get(type_id, 0)
    return [(t, by_key[t.key]) for t in types]


def events_of(session: Session, entry_id: int) -> list[ListEvent]:
    return list(session.scalars(select(ListEvent).where(ListEvent.entry_id == entry_id).order_by(ListEvent.id)))


def find_entries(session: Session, actor: Actor, *, state: str | None = None, type_key: str | None = None,
                 limit: int = 200) -> list[tuple[ListEntry, ListType]]:  # fmt: skip
    query = select(ListEntry, ListType).join(ListType, ListType.id == ListEntry.list_type_id)
    if (clause := actor.reach(ListEntry.department_id, ListEntry.created_at)) is not None:
        query = query.where(clause)
    if state:
        query = query.where(ListEntry.state == state)
    if type_key:
        query = query.where(ListType.key == type_key)
    rows = session.execute(query.order_by(ListEntry.updated_at.desc(), ListEntry.id.desc()).limit(limit))
    return [(r[0], r[1]) for r in rows]
