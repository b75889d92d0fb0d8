"""Use-cases of objections. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import freetext
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure
from xinyong.calendar import service as calendar_service
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.evidence import service as evidence
from xinyong.files import IncomingFile
from xinyong.notify import service as notify
from xinyong.objections import rules
from xinyong.objections.models import GROUNDS, Objection, ObjectionStatus
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus, RecordVersion


@dataclass
class ObjectionInput:
    ground: str
    reason: str
    contact_name: str
    contact_phone: str


def file_objection(session: Session, *, account: SubjectAccount, record_id: int, data: ObjectionInput,
                   files: list[IncomingFile], settings: Settings, today: date) -> Objection:  # fmt: skip
    """Standing: the record's own subject, through its verified account. One open objection per record."""
    record = accounts_service.own_record(session, account, record_id)
    if record.status != RecordStatus.ACTIVE:
        raise InvalidInput(reason="该记录已撤销，无需提出异议")
    existing = open_for(session, record.id)
    if existing is not None:
        raise AlreadyExists(f"该记录已有处理中的异议（编号 {existing.number}），请勿重复提出")
    if data.ground not in GROUNDS:
        raise InvalidInput(reason="请选择异议类型")
    reason = freetext.clean_text(data.reason, title="异议理由", min_length=10, max_length=2000)
    contact_name = freetext.clean_text(data.contact_name, title="联系人", min_length=2, max_length=50)
    contact_phone = freetext.clean_phone(data.contact_phone)
    evidence.check_all(files, settings=settings, required=False)
    holder = session.get(Department, record.department_id)  # the holding department's region's working days
    due = calendar_service.load_calendar(session, region=holder.region if holder else None).add_workdays(
        today, settings.objection_verify_workdays)  # fmt: skip
    objection = Objection(
        number=freetext.new_number("YY", today), record_id=record.id, open_record_id=record.id,
        subject_id=record.subject_id, department_id=record.department_id, account_id=account.id,
        status=ObjectionStatus.OPEN, ground=data.ground, reason=reason, contact_name=contact_name,
        contact_phone=contact_phone, record_version=record.version, filed_on=today, due_on=due,
    )  # fmt: skip
    session.add(objection)
    session.flush()  # the id names the evidence and the audit target
    evidence.store(session, files, settings=settings, owner=f"objection:{objection.id}", round_=1)
    label = f"subject-account:{account.id}"
    audit.record(session, AuditAction.OBJECTION_FILED, actor=label, department_id=record.department_id,
                 subject_id=record.subject_id, target=f"objection:{objection.id}", reason=reason[:500],
                 details={"number": objection.number, "record_id": record.id, "ground": data.ground})  # fmt: skip
    notify.change_event(session, "objection-opened", record_id=record.id, doc_no=record.doc_no,
                        objection=objection.number)  # fmt: skip
    notify.message(session, address=account.contact, title=f"异议申请已受理（{objection.number}）",
                   body=f"您对{record.doc_no}提出的异议已登记，数据来源部门将于 {due.isoformat()} 前核实答复。"
                        f"处理期间该记录在公示页面标注“异议处理中”。\n异议编号：{objection.number}",
                   **_link(session, objection))  # fmt: skip
    return objection


def _link(session: Session, objection: Objection) -> dict[str, str | None]:
    """The objection's page, on the portal of the county it belongs to (its department's, when it was filed)."""
    region = departments_service.region_at(session, objection.department_id, objection.created_at)
    return {"portal_path": f"/objections/{objection.number}", "region": region}


def open_for(session: Session, record_id: int) -> Objection | None:
    return session.scalar(select(Objection).where(Objection.open_record_id == record_id))


def open_record_ids(session: Session, record_ids: list[int]) -> set[int]:
    if not record_ids:
        return set()
    return set(session.scalars(select(Objection.open_record_id).where(Objection.open_record_id.in_(record_ids))))


def get_for_staff(session: Session, actor: Actor, objection_id: int) -> Objection:
    ensure(actor, Permission.OBJECTIONS_READ)
    objection = session.get(Objection, objection_id)
    if objection is None or not actor.can_reach(objection.department_id, objection.created_at):
        raise NotFound(what="该异议")  # another department's (bound) or county's (regional): not found
    return objection


def get_for_account(session: Session, account: SubjectAccount, number: str) -> Objection:
    accounts_service.require_identity(account)
    objection = session.scalar(select(Objection).where(Objection.number == number.strip()[:24]))
    if objection is None or objection.subject_id != account.subject_id:
        raise NotFound(what="该异议")
    return objection


def corrections(session: Session, objection: Objection) -> list[tuple[str, str, str]]:
    """(field code, disputed value, current value) for every published field changed since filing."""
    # Ingestion updates records in bulk, behind the identity map's back: read the row as it is now.
    record = session.scalar(select(Record).where(Record.id == objection.record_id)
                            .execution_options(populate_existing=True))  # fmt: skip
    assert record is not None
    before = session.scalar(select(RecordVersion).where(RecordVersion.record_id == record.id,
                                                        RecordVersion.version == objection.record_version))  # fmt: skip
    if before is None or record.version == objection.record_version:
        return []
    old, new = before.payload or {}, record.payload or {}
    return [(code, str(old.get(code, "")), str(new.get(code, ""))) for code in sorted(set(old) | set(new))
            if old.get(code) != new.get(code)]  # fmt: skip


def decide_objection(session: Session, objection_id: int, *, actor: Actor, outcome: str, reason: str, today: date
                     ) -> Objection:  # fmt: skip
    """correct: the corrected version must already have been re-reported (same 文书号, through upload or API),
    which keeps the record's history; revoke: through records.service.revoke_record; uphold: reasons only."""
    ensure(actor, Permission.OBJECTIONS_DECIDE)
    objection = get_for_staff(session, actor, objection_id)
    if not (actor.is_department_bound and actor.department_id == objection.department_id):
        # The record is the department's: only it corrects, revokes or upholds it, never the platform alone.
        raise PermissionDenied("异议由数据来源部门的审核人员核实处理")
    if outcome not in rules.OUTCOMES:
        raise InvalidInput(reason="请选择处理结果")
    after = rules.next_status(objection.status, outcome)
    reason = freetext.clean_text(reason, title="处理理由", min_length=4, max_length=1000)
    record = session.get(Record, objection.record_id)
    assert record is not None
    details: dict[str, object] = {"number": objection.number, "outcome": outcome}
    if outcome == "correct":
        changed = corrections(session, objection)
        if not changed:
            raise InvalidInput(reason="该记录自异议提出后未被更正：请先通过报送渠道以同一文书号重新报送更正后的记录，再办结")
        details["changed_fields"] = [code for code, _, _ in changed]
    elif outcome == "revoke":
        department = session.get(Department, record.department_id)
        assert department is not None
        records_service.revoke_record(session, department=department, record_type=record.record_type,
                                      doc_no=record.doc_no, reason=f"异议成立（{objection.number}）：{reason}",
                                      actor=actor.label)  # fmt: skip
    objection.status = after
    objection.open_record_id = None
    objection.decided_on, objection.decision_reason, objection.decided_by = today, reason, actor.label[:100]
    objection.updated_at = utcnow()
    audit.record(session, AuditAction.OBJECTION_DECIDED, actor=actor, department_id=objection.department_id,
                 subject_id=objection.subject_id, target=f"objection:{objection.id}", reason=reason,
                 details=details)  # fmt: skip
    notify.change_event(session, "objection-closed", record_id=record.id, doc_no=record.doc_no,
                        objection=objection.number, outcome=outcome)  # fmt: skip
    account = session.get(SubjectAccount, objection.account_id) if objection.account_id else None
    if account is not None:
        notify.message(session, address=account.contact, title=f"异议处理结果（{objection.number}）",
                       body=f"您对{record.doc_no}提出的异议已办结：{after.label}。理由：{reason}\n"
                            "如对处理结果不服，可依法申请行政复议或提起行政诉讼。", **_link(session, objection))  # fmt: skip
    return objection


def withdraw_objection(session: Session, *, account: SubjectAccount, number: str) -> Objection:
    objection = get_for_account(session, account, number)
    objection.status = rules.next_status(objection.status, "withdraw")
    objection.open_record_id = None
    objection.updated_at = utcnow()
    audit.record(session, AuditAction.OBJECTION_WITHDRAWN, actor=f"subject-account:{account.id}",
                 department_id=objection.department_id, subject_id=objection.subject_id,
                 target=f"objection:{objection.id}", details={"number": objection.number})  # fmt: skip
    return objection


def for_subject(session: Session, subject_id: int) -> list[Objection]:
    return list(session.scalars(select(Objection).where(Objection.subject_id == subject_id)
                                .order_by(Objection.id.desc())))  # fmt: skip


def queue(session: Session, actor: Actor, *, status: str | None, today: date, limit: int = 200) -> list[Objection]:
    ensure(actor, Permission.OBJECTIONS_READ)
    query = select(Objection)
    if (clause := actor.reach(Objection.department_id, Objection.created_at)) is not None:
        query = query.where(clause)
    if status in {s.value for s in ObjectionStatus}:
        query = query.where(Objection.status == status)
    elif status == "overdue":
        query = query.where(Objection.status == ObjectionStatus.OPEN, Objection.due_on < today)
    elif status != "all":
        query = query.where(Objection.status == ObjectionStatus.OPEN)
    return list(session.scalars(query.order_by(Objection.due_on, Objection.id).limit(limit)))
