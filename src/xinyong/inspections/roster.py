"""The roster of law-enforcement inspectors (执法检查人员库) and their conflicts of interest (回避)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.departments.models import Department
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.inspections.models import Inspector, InspectorExclusion
from xinyong.inspections.rules import RosterEntry
from xinyong.protect import Protector
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject


def add_inspector(session: Session, *, department: Department, name: str, badge_no: str, actor: Actor | str) -> Inspector:
    name, badge_no = " ".join(name.split())[:50], "".join(badge_no.split()).upper()[:40]
    if len(name) < 2 or len(badge_no) < 4:
        raise InvalidInput(reason="请填写检查人员姓名和执法证号")
    if session.scalar(select(Inspector.id).where(Inspector.badge_no == badge_no)) is not None:
        raise AlreadyExists(what=f"执法证号 {badge_no}")
    inspector = Inspector(department_id=department.id, name=name, badge_no=badge_no, is_active=True)
    session.add(inspector)
    session.flush()  # the audit entry names it
    audit.record(session, AuditAction.INSPECTOR_SAVED, actor=actor, department_id=department.id,
                 target=f"inspector:{inspector.id}", details={"name": name, "badge_no": badge_no})  # fmt: skip
    return inspector


def get_inspector(session: Session, inspector_id: int, *, actor: Actor | None = None) -> Inspector:
    """An inspector by id; another county's (for a county's 信用办) is not found."""
    found = session.get(Inspector, inspector_id)
    if found is None or (actor is not None and actor.scope is not None and not actor.can_reach(found.department_id)):
        raise NotFound(what="该检查人员")
    return found


def inspector_by_badge(session: Session, badge_no: str) -> Inspector:
    found = session.scalar(select(Inspector).where(Inspector.badge_no == "".join(badge_no.split()).upper()))
    if found is None:
        raise NotFound(what=f"执法证号为 {badge_no} 的检查人员")
    return found


def exclude(session: Session, *, inspector: Inspector, subject_code: str, reason: str, actor: Actor,
            protector: Protector) -> InspectorExclusion:  # fmt: skip
    """Record a conflict of interest (回避): the inspector is never paired with that subject."""
    if not actor.can_reach(inspector.department_id):
        raise PermissionDenied("只能为本部门（本区划）的检查人员登记回避")
    subject = subjects_service.get_subject(session, subject_code, protector)
    reason = " ".join(reason.split())[:500]
    if len(reason) < 2:
        raise InvalidInput(reason="请填写回避事由（如亲属关系、曾在该主体任职）")
    if session.scalar(select(InspectorExclusion.id).where(InspectorExclusion.inspector_id == inspector.id,
                                                          InspectorExclusion.subject_id == subject.id)):  # fmt: skip
        raise AlreadyExists(what="该回避记录")
    row = InspectorExclusion(inspector_id=inspector.id, subject_id=subject.id, reason=reason, actor=actor.label[:100])
    session.add(row)
    audit.record(session, AuditAction.INSPECTOR_EXCLUDED, actor=actor, department_id=inspector.department_id,
                 subject_id=subject.id, target=f"inspector:{inspector.id}", reason=reason)  # fmt: skip
    return row


def roster_of_department(session: Session, department_id: int | None,
                         actor: Actor | None = None) -> list[tuple[Inspector, int]]:  # fmt: skip
    """Inspectors (all, one department's, or those of the actor's region's departments) with their number of
    exclusions."""
    counts = select(InspectorExclusion.inspector_id, func.count().label("n")).group_by(InspectorExclusion.inspector_id).subquery()
    query = select(Inspector, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.inspector_id == Inspector.id)
    clause = actor.reach(Inspector.department_id) if actor is not None else None
    if clause is not None:
        query = query.where(clause)
    if department_id is not None:
        query = query.where(Inspector.department_id == department_id)
    return [(r[0], int(r[1])) for r in session.execute(query.order_by(Inspector.department_id, Inspector.badge_no))]


def with_exclusions(session: Session, inspectors: list[Inspector], usccs: set[str] | None) -> list[RosterEntry]:
    excluded: dict[int, set[str]] = {i.id: set() for i in inspectors}
    if inspectors:
        for inspector_id, uscc in session.execute(
            select(InspectorExclusion.inspector_id, Subject.uscc).join(Subject, Subject.id == InspectorExclusion.subject_id)
            .where(InspectorExclusion.inspector_id.in_(list(excluded)))
        ):  # fmt: skip
            if uscc and (usccs is None or uscc in usccs):
                excluded[inspector_id].add(uscc)
    return [RosterEntry(i.id, i.badge_no, i.name, frozenset(excluded[i.id])) for i in inspectors]
