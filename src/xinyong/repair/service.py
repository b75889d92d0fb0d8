"""Use-cases of credit repair. Nothing here commits: the request or the CLI command does, once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong import freetext
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure
from xinyong.calendar import service as calendar_service
from xinyong.catalog import load_catalog
from xinyong.changelog import service as changelog
from xinyong.changelog.models import ChangeKind
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.disclosure.models import PublicationStop
from xinyong.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinyong.evidence import service as evidence
from xinyong.files import IncomingFile
from xinyong.lists import rules as lists_rules
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListEntry, ListNature, ListOrigin, ListType
from xinyong.notify import service as notify
from xinyong.records.models import Record, RecordStatus
from xinyong.repair import hooks, rules
from xinyong.repair.models import RepairApplication, RepairCommitment, RepairEvent, RepairStatus
from xinyong.repair.rules import Eligibility, ListRepairPolicy, RepairPolicy
from xinyong.subjects.models import Subject

_policies: dict[int, tuple[Settings, RepairPolicy]] = {}


def load_policy(settings: Settings) -> RepairPolicy:
    hit = _policies.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    policy = rules.policy_from_settings(settings, load_catalog(settings.catalog_dirs))
    if len(_policies) > 64:
        _policies.clear()
    _policies[id(settings)] = (settings, policy)
    return policy


def type_name(record: Record, settings: Settings) -> str:
    return load_catalog(settings.catalog_dirs).get(record.record_type).name


def is_negative(record: Record, settings: Settings) -> bool:
    """Whether the record's type is negative information (`negative = true` in the catalogue): only those are
    repaired. A type no longer in the catalogue is not."""
    record_type = load_catalog(settings.catalog_dirs).types.get(record.record_type)
    return record_type is not None and record_type.is_negative


def record_categories(record: Record, settings: Settings) -> tuple[str, ...]:
    spec = load_catalog(settings.catalog_dirs).get(record.record_type).field_by_role("categories")
    value = (record.payload or {}).get(spec.code, "") if spec else ""
    return tuple(p.strip() for p in str(value).replace("；", ";").split(";") if p.strip())


def is_stopped(session: Session, record_id: int) -> bool:
    stop = session.get(PublicationStop, record_id)
    return stop is not None and stop.lifted_on is None


def eligibility_of(session: Session, record: Record, *, settings: Settings, today: date) -> Eligibility:
    if is_stopped(session, record.id):
        return Eligibility("repaired", "已完成信用修复，已停止公示")
    return rules.eligibility(
        load_policy(settings), record_type=record.record_type, tier=record.tier, decision_date=record.decision_date,
        publish_until=record.publish_until, categories=record_categories(record, settings),
        is_active=record.status == RecordStatus.ACTIVE, today=today,
    )  # fmt: skip


def eligibility_for(session: Session, record_id: int, *, settings: Settings, today: date) -> Eligibility | None:
    """When and how a negative record can be repaired, for its public page; None for other records."""
    record = session.get(Record, record_id)
    if record is None or not is_negative(record, settings):
        return None
    return eligibility_of(session, record, settings=settings, today=today)


def open_application_for(session: Session, record_id: int) -> RepairApplication | None:
    return session.scalar(select(RepairApplication).where(RepairApplication.open_record_id == record_id))


def open_record_ids(session: Session, record_ids: list[int]) -> set[int]:
    """Which of these records have an open repair application (修复申请中), in one query."""
    if not record_ids:
        return set()
    return set(session.scalars(select(RepairApplication.open_record_id)
                               .where(RepairApplication.open_record_id.in_(record_ids))))  # fmt: skip


def stopped_record_ids(session: Session, record_ids: list[int]) -> set[int]:
    """Which of these records had their publication stopped by an approved repair (已修复), in one query."""
    if not record_ids:
        return set()
    return set(session.scalars(select(PublicationStop.record_id).where(PublicationStop.record_id.in_(record_ids),
                                                                       PublicationStop.lifted_on.is_(None))))  # fmt: skip


# ------------------------------------------------------------------------------------------- submit


@dataclass
class ApplicationInput:
    contact_name: str
    contact_phone: str
    contact_email: str
    statement: str
    signer_name: str
    agrees: bool


def _clean_input(data: ApplicationInput) -> dict[str, Any]:
    if not data.agrees:
        raise InvalidInput(reason="请阅读并签署信用修复承诺书")
    return {
        "contact_name": freetext.clean_text(data.contact_name, title="联系人", min_length=2, max_length=50),
        "contact_phone": freetext.clean_phone(data.contact_phone),
        "contact_email": freetext.clean_email(data.contact_email),
        "statement": freetext.clean_text(data.statement, title="履行义务情况说明", min_length=10, max_length=2000),
        "signer_name": freetext.clean_text(data.signer_name, title="承诺人签名", min_length=2, max_length=50),
    }


def submit_application(
    session: Session,
    *,
    account: SubjectAccount,
    record_id: int,
    data: ApplicationInput,
    files: list[IncomingFile],
    settings: Settings,
    today: date,
    client: str | None = None,
) -> RepairApplication:
    """Raises NotFound (not the account's record), InvalidInput (not eligible, bad input, bad files) or
    AlreadyExists (an application is already open, or the record is already repaired)."""
    record = accounts_service.own_record(session, account, record_id)
    if is_stopped(session, record.id):
        raise AlreadyExists(what="该记录的信用修复结果")
    existing = open_application_for(session, record.id)
    if existing is not None:
        raise AlreadyExists(f"该记录已有办理中的信用修复申请（申请编号 {existing.number}），请勿重复申请")
    verdict = eligibility_of(session, record, settings=settings, today=today)
    if not verdict.is_eligible:
        raise InvalidInput(reason=verdict.message)
    values = _clean_input(data)
    evidence.check_all(files, settings=settings, required=True)
    policy = load_policy(settings)
    department = session.get(Department, record.department_id)
    assert department is not None
    calendar = calendar_service.load_calendar(session, region=department.region)
    application = RepairApplication(
        number=freetext.new_number("XF", today), record_id=record.id, open_record_id=record.id,
        subject_id=record.subject_id, department_id=record.department_id, account_id=account.id,
        status=RepairStatus.SUBMITTED, contact_name=values["contact_name"], contact_phone=values["contact_phone"],
        contact_email=values["contact_email"], statement=values["statement"], submitted_on=today,
        platform_due=calendar.add_workdays(today, policy.platform_workdays), round=1,
    )  # fmt: skip
    session.add(application)
    session.flush()  # the id names the evidence owner, the commitment and the audit target
    evidence.store(session, files, settings=settings, owner=f"repair:{application.id}", round_=1)
    text = rules.commitment_text(subject_name=record.subject_name, type_name=type_name(record, settings),
                                 doc_no=record.doc_no, department=department.name, signed_on=today)  # fmt: skip
    session.add(RepairCommitment(
        application_id=application.id, subject_id=record.subject_id, text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), signer_name=values["signer_name"],
        client=(client or "")[:64] or None,
    ))  # fmt: skip
    label = f"subject-account:{account.id}"
    _event(session, application, "submit", None, RepairStatus.SUBMITTED, label, None)
    audit.record(session, AuditAction.REPAIR_SUBMITTED, actor=label, department_id=record.department_id,
                 subject_id=record.subject_id, target=f"repair:{application.id}",
                 details={"number": application.number, "record_id": record.id, "files": len(files)})  # fmt: skip
    _tell(session, application, account, f"信用修复申请已提交（{application.number}）",
          f"您对{record.doc_no}的信用修复申请已提交，平台将于 {application.platform_due.isoformat()} 前答复。")  # fmt: skip
    # Last: the commitment's record goes through the ingestion pipeline, which commits what this act wrote so far
    # (the whole application, its event and audit entry) before it stores the record.
    _signed(session, application, text, settings, today)
    return application


# ------------------------------------------------------------------------------ list entries (移出)


def load_list_policy(settings: Settings) -> ListRepairPolicy:
    return rules.list_policy_from_settings(settings)


def own_list_entry(session: Session, account: SubjectAccount, entry_id: int) -> ListEntry:
    """A list entry of the account's own subject; any other entry does not exist for this account."""
    accounts_service.require_identity(account)
    try:
        entry = lists_service.get_entry(session, entry_id)
    except NotFound:
        entry = None
    if entry is None or entry.subject_id != account.subject_id:
        raise NotFound(what="该名单记录")
    return entry


def list_eligibility_of(session: Session, entry: ListEntry, *, settings: Settings, today: date) -> Eligibility:
    if entry.state is EntryState.REMOVED:
        return Eligibility("repaired", "已移出名单")
    list_type = session.get(ListType, entry.list_type_id)
    assert list_type is not None
    return rules.list_eligibility(
        load_list_policy(settings), type_key=list_type.key, type_name=list_type.name,
        is_imported=list_type.origin is ListOrigin.IMPORTED or entry.origin is ListOrigin.IMPORTED,
        is_honor=list_type.nature is ListNature.HONOR, source=list_type.source or entry.source,
        remedy_route=list_type.remedy_route,
        is_in_force=list_type.is_active and lists_rules.is_in_force(entry.state, entry.valid_from, entry.valid_until,
                                                                    today),
        valid_from=entry.valid_from, today=today, materials=load_policy(settings).materials,
    )  # fmt: skip


def entry_of(session: Session, application: RepairApplication) -> ListEntry | None:
    return session.get(ListEntry, application.list_entry_id) if application.list_entry_id else None


def list_type_of(session: Session, entry: ListEntry) -> ListType:
    list_type = session.get(ListType, entry.list_type_id)
    assert list_type is not None
    return list_type


def open_application_for_entry(session: Session, entry_id: int) -> RepairApplication | None:
    return session.scalar(select(RepairApplication).where(RepairApplication.open_list_entry_id == entry_id))


def repaired_entry_ids(session: Session, entry_ids: list[int]) -> set[int]:
    """Which of these list entries were removed early by an approved repair (已修复), in one query."""
    if not entry_ids:
        return set()
    return set(session.scalars(select(RepairApplication.list_entry_id).where(
        RepairApplication.list_entry_id.in_(entry_ids), RepairApplication.status == RepairStatus.APPROVED)))  # fmt: skip


def list_commitment(session: Session, entry: ListEntry, today: date) -> str:
    list_type = session.get(ListType, entry.list_type_id)
    department = session.get(Department, entry.department_id)
    assert list_type is not None
    assert department is not None
    return rules.list_commitment_text(subject_name=entry.subject_name, list_name=list_type.name,
                                      decision_no=entry.decision_no or entry.source_ref or "",
                                      department=department.name, signed_on=today)  # fmt: skip


def submit_list_application(
    session: Session,
    *,
    account: SubjectAccount,
    entry_id: int,
    data: ApplicationInput,
    files: list[IncomingFile],
    settings: Settings,
    today: date,
    client: str | None = None,
) -> RepairApplication:
    """Early removal (移出) of a published list entry, through the same workflow as a record; the department
    that listed the subject reviews it (谁列入、谁移出). Raises NotFound (not the account's entry),
    InvalidInput (not eligible — an imported list names the body to apply to —, bad input, bad files) or
    AlreadyExists (an application is already open)."""
    entry = own_list_entry(session, account, entry_id)
    existing = open_application_for_entry(session, entry.id)
    if existing is not None:
        raise AlreadyExists(f"该名单记录已有办理中的信用修复申请（申请编号 {existing.number}），请勿重复申请")
    verdict = list_eligibility_of(session, entry, settings=settings, today=today)
    if not verdict.is_eligible:
        raise InvalidInput(reason=verdict.message)
    values = _clean_input(data)
    evidence.check_all(files, settings=settings, required=True)
    calendar = _calendar_of(session, entry.department_id)
    application = RepairApplication(
        number=freetext.new_number("XF", today), list_entry_id=entry.id, open_list_entry_id=entry.id,
        subject_id=entry.subject_id, department_id=entry.department_id, account_id=account.id,
        status=RepairStatus.SUBMITTED, contact_name=values["contact_name"], contact_phone=values["contact_phone"],
        contact_email=values["contact_email"], statement=values["statement"], submitted_on=today,
        platform_due=calendar.add_workdays(today, load_policy(settings).platform_workdays), round=1,
    )  # fmt: skip
    session.add(application)
    session.flush()  # the id names the evidence owner, the commitment and the audit target
    evidence.store(session, files, settings=settings, owner=f"repair:{application.id}", round_=1)
    text = list_commitment(session, entry, today)
    session.add(RepairCommitment(
        application_id=application.id, subject_id=entry.subject_id, text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), signer_name=values["signer_name"],
        client=(client or "")[:64] or None,
    ))  # fmt: skip
    label = f"subject-account:{account.id}"
    _event(session, application, "submit", None, RepairStatus.SUBMITTED, label, None)
    audit.record(session, AuditAction.REPAIR_SUBMITTED, actor=label, department_id=entry.department_id,
                 subject_id=entry.subject_id, target=f"repair:{application.id}",
                 details={"number": application.number, "list_entry_id": entry.id, "files": len(files)})  # fmt: skip
    _tell(session, application, account, f"信用修复申请已提交（{application.number}）",
          f"您申请提前移出名单（名单记录编号 {entry.id}）的信用修复申请已提交，"
          f"平台将于 {application.platform_due.isoformat()} 前答复。")  # fmt: skip
    # Last: the commitment's record goes through the ingestion pipeline, which commits what this act wrote so far
    # (the whole application, its event and audit entry) before it stores the record.
    _signed(session, application, text, settings, today)
    return application


# ------------------------------------------------------------------------------------------ moves


def _event(session: Session, application: RepairApplication, action: str, before: RepairStatus | None,
           after: RepairStatus, actor: str, note: str | None, user_id: int | None = None) -> None:  # fmt: skip
    session.add(RepairEvent(application_id=application.id, action=action, from_status=before.value if before else None,
                            to_status=after.value, actor=actor[:100], note=note, user_id=user_id))  # fmt: skip


def _move(session: Session, application: RepairApplication, action: str, *, actor: str, note: str | None,
          audit_action: AuditAction, today: date, details: dict[str, Any] | None = None,
          user_id: int | None = None) -> RepairStatus:  # fmt: skip
    before = application.status
    after = rules.next_status(before, action)  # raises InvalidTransition before anything changes
    application.status = after
    application.updated_at = utcnow()
    if not after.is_open:
        application.open_record_id = None
        application.open_list_entry_id = None
        if after in (RepairStatus.APPROVED, RepairStatus.REFUSED):
            application.decided_on = today
    _event(session, application, action, before, after, actor, note, user_id)
    audit.record(session, audit_action, actor=actor, department_id=application.department_id,
                 subject_id=application.subject_id, target=f"repair:{application.id}", reason=note,
                 details={"number": application.number, "from": before.value, "to": after.value, **(details or {})})  # fmt: skip
    return after


def _tell(session: Session, application: RepairApplication, account: SubjectAccount | None, title: str, body: str
          ) -> None:  # fmt: skip
    addresses = {a for a in (application.contact_email, account.contact if account else None) if a}
    # The link opens the application on the portal of the county it belongs to (its department's, when made).
    region = departments_service.region_at(session, application.department_id, application.created_at)
    for address in sorted(addresses):
        notify.message(session, address=address, title=title, body=body + "\n申请编号：" + application.number,
                       portal_path=f"/repair/applications/{application.number}", region=region)  # fmt: skip


def _account(session: Session, application: RepairApplication) -> SubjectAccount | None:
    return session.get(SubjectAccount, application.account_id) if application.account_id else None


def get_for_staff(session: Session, actor: Actor, application_id: int) -> RepairApplication:
    ensure(actor, Permission.REPAIRS_READ)
    application = session.get(RepairApplication, application_id)
    if application is None or not actor.can_reach(application.department_id, application.created_at):
        raise NotFound(what="该信用修复申请")  # another department's (bound) or county's (regional): not found
    return application


STEP_PERMISSIONS = {rules.PLATFORM_STEP: Permission.REPAIRS_ACCEPT, rules.DEPARTMENT_STEP: Permission.REPAIRS_DECIDE}
STEP_REFUSALS = {
    rules.PLATFORM_STEP: "信用修复申请的受理、退回补正和不予受理由信用办（平台）办理（需要 admin:repairs:accept 权限）",
    rules.DEPARTMENT_STEP: "信用修复的审核决定由数据来源部门的审核人员作出（需要 admin:repairs:decide 权限）",
}


class SameOfficial(PermissionDenied):
    """One person tried to take both steps of one application. The refusal is itself a fact to keep: its audit
    entry is committed although the request fails (as a failed sign-in is counted); nothing else has changed."""

    code = "repair-same-official"
    keeps_changes = True
    message_template = "同一工作人员不能办理同一信用修复申请的两个环节：您已办理过该申请的“{done}”，“{step}”须由其他工作人员办理"


def _for_step(session: Session, actor: Actor, application_id: int, action: str) -> RepairApplication:
    """The application, if `actor` may take the step `action` belongs to in its current state: the platform's step
    (受理/初审) needs admin:repairs:accept, the department's (审核决定) admin:repairs:decide and an account of
    the department that owns the record or listed the subject; nobody takes both steps of one application."""
    if not (actor.can(Permission.REPAIRS_ACCEPT) or actor.can(Permission.REPAIRS_DECIDE)):
        raise PermissionDenied("无权执行此操作（需要 admin:repairs:accept 或 admin:repairs:decide 权限）")
    application = get_for_staff(session, actor, application_id)
    step = rules.step_of(application.status, action)
    if step is None:  # not a staff move in this state
        raise InvalidTransition(state=application.status.label, action=rules.ACTION_LABELS.get(action, action))
    if not actor.can(STEP_PERMISSIONS[step]):
        raise PermissionDenied(STEP_REFUSALS[step])
    if step == rules.DEPARTMENT_STEP and not (actor.is_department_bound
                                              and actor.department_id == application.department_id):  # fmt: skip
        raise PermissionDenied("信用修复的审核决定由数据来源部门（名单为作出列入决定的部门）的工作人员作出")
    _check_separation(session, application, step, actor)
    return application


def _check_separation(session: Session, application: RepairApplication, step: str, actor: Actor) -> None:
    """Refuse, audited, a step by someone (by account id, whatever their role now) who took the other step."""
    if actor.user_id is None:
        return
    taken = session.execute(select(RepairEvent.from_status, RepairEvent.action).where(
        RepairEvent.application_id == application.id, RepairEvent.user_id == actor.user_id)).all()  # fmt: skip
    steps = {rules.step_of(RepairStatus(before), action) for before, action in taken if before}
    other = {s for s in steps if s is not None and s != step}
    if not other:
        return
    done = rules.STEP_LABELS[other.pop()]
    audit.record(session, AuditAction.REPAIR_SAME_OFFICIAL_REFUSED, actor=actor, department_id=application.department_id,
                 subject_id=application.subject_id, target=f"repair:{application.id}",
                 details={"number": application.number, "step": step, "status": application.status.value})  # fmt: skip
    raise SameOfficial(done=done, step=rules.STEP_LABELS[step])


def accept_application(session: Session, application_id: int, *, actor: Actor, settings: Settings, today: date
                       ) -> RepairApplication:  # fmt: skip
    application = _for_step(session, actor, application_id, "accept")
    _move(session, application, "accept", actor=actor.label, note=None, audit_action=AuditAction.REPAIR_ACCEPTED,
          today=today, user_id=actor.user_id)  # fmt: skip
    application.accepted_on = today
    calendar = _calendar_of(session, application.department_id)
    application.department_due = calendar.add_workdays(today, load_policy(settings).department_workdays)
    _tell(session, application, _account(session, application), "信用修复申请已受理",
          f"您的信用修复申请已受理，已转数据来源部门审核，预计 {application.department_due.isoformat()} 前作出决定。")  # fmt: skip
    return application


def return_application(session: Session, application_id: int, *, actor: Actor, missing: str, today: date
                       ) -> RepairApplication:  # fmt: skip
    application = _for_step(session, actor, application_id, "return")
    missing = freetext.clean_text(missing, title="需补正的材料", min_length=4, max_length=1000)
    _move(session, application, "return", actor=actor.label, note=missing, audit_action=AuditAction.REPAIR_RETURNED,
          today=today, user_id=actor.user_id)  # fmt: skip
    application.missing_materials = missing
    _tell(session, application, _account(session, application), "信用修复申请需补正材料",
          f"您的信用修复申请材料不全，请登录平台补正后重新提交。需补正：{missing}")  # fmt: skip
    return application


def approve_application(session: Session, application_id: int, *, actor: Actor, opinion: str, today: date
                        ) -> RepairApplication:  # fmt: skip
    """同意修复: publication stops at once (portal, public API, and everything that asks disclosure), and a
    change event tells the sharing systems."""
    application = _for_step(session, actor, application_id, "approve")
    opinion = freetext.clean_text(opinion, title="审核意见", min_length=2, max_length=1000)
    _move(session, application, "approve", actor=actor.label, note=opinion, audit_action=AuditAction.REPAIR_APPROVED,
          today=today, user_id=actor.user_id)  # fmt: skip
    application.decision_reason = opinion
    if application.list_entry_id is not None:
        _remove_from_list(session, application, actor=actor, opinion=opinion, today=today)
        return application
    stop = session.get(PublicationStop, application.record_id)
    if stop is None:
        session.add(PublicationStop(record_id=application.record_id, application_id=application.id, stopped_on=today))
    else:  # an earlier repair was undone by a broken commitment; this one stops publication again
        stop.application_id, stop.stopped_on, stop.lifted_on = application.id, today, None
    record = session.get(Record, application.record_id)
    assert record is not None
    _change(session, "publication-stopped", record, application, today)
    _tell(session, application, _account(session, application), "信用修复申请已通过",
          f"您对{record.doc_no}的信用修复申请已通过，该记录自 {today.isoformat()} 起停止公示。")  # fmt: skip
    return application


def _remove_from_list(session: Session, application: RepairApplication, *, actor: Actor, opinion: str,
                      today: date) -> None:  # fmt: skip
    """移出 through the lists procedure (its table and its audit), so the entry leaves the public lists and
    every check from today; a change event tells the sharing systems."""
    assert application.list_entry_id is not None
    ensure(actor, Permission.LISTS_DECIDE)
    entry = lists_service.remove(session, application.list_entry_id, actor=actor, today=today,
                                 reason=f"信用修复（申请编号 {application.number}）：{opinion}")  # fmt: skip
    list_type = session.get(ListType, entry.list_type_id)
    subject = session.get(Subject, entry.subject_id)
    department = session.get(Department, entry.department_id)
    notify.change_event(
        session, "list-entry-removed", list_entry_id=entry.id, list_type=list_type.key if list_type else None,
        decision_no=entry.decision_no, department_code=department.code if department else None,
        subject_uscc=subject.uscc if subject else None, application=application.number,
        effective_on=today.isoformat(),
    )  # fmt: skip
    _tell(session, application, _account(session, application), "信用修复申请已通过",
          f"您的信用修复申请已通过，自 {today.isoformat()} 起已从“{list_type.name if list_type else ''}”中移出。")  # fmt: skip


def refuse_application(session: Session, application_id: int, *, actor: Actor, reason: str, next_steps: str,
                       today: date) -> RepairApplication:  # fmt: skip
    application = _for_step(session, actor, application_id, "refuse")
    reason = freetext.clean_text(reason, title="不予修复的理由", min_length=4, max_length=1000)
    next_steps = freetext.clean_text(next_steps, title="后续可采取的措施", min_length=4, max_length=1000)
    _move(session, application, "refuse", actor=actor.label, note=reason, audit_action=AuditAction.REPAIR_REFUSED,
          today=today, details={"next_steps": next_steps}, user_id=actor.user_id)  # fmt: skip
    application.decision_reason, application.next_steps = reason, next_steps
    _tell(session, application, _account(session, application), "信用修复申请未通过",
          f"您的信用修复申请未通过。理由：{reason}\n您可以：{next_steps}")  # fmt: skip
    return application


def restore_publication(session: Session, application_id: int, *, actor: Actor, reason: str, today: date,
                        settings: Settings | None = None) -> RepairApplication:  # fmt: skip
    """违诺: the subject broke its repair commitment; the stop is lifted, so the record is published again
    for what is left of its publicity period. Audited; the subject is told."""
    ensure(actor, Permission.COMMITMENTS_DECIDE)
    application = get_for_staff(session, actor, application_id)
    if application.list_entry_id is not None:
        raise InvalidInput(reason="名单移出后不能恢复；违反承诺的，由认定部门依照程序重新认定列入")
    reason = freetext.clean_text(reason, title="违反承诺的事实", min_length=4, max_length=1000)
    _move(session, application, "restore", actor=actor.label, note=reason,
          audit_action=AuditAction.REPAIR_COMMITMENT_BROKEN, today=today, user_id=actor.user_id)  # fmt: skip
    stop = session.get(PublicationStop, application.record_id)
    if stop is not None:
        stop.lifted_on = today
    for commitment in session.scalars(select(RepairCommitment).where(RepairCommitment.application_id == application.id)):
        commitment.breached_at, commitment.breach_reason = utcnow(), reason
    record = session.get(Record, application.record_id)
    assert record is not None
    _change(session, "publication-restored", record, application, today)
    _tell(session, application, _account(session, application), "因违反信用修复承诺，已恢复公示",
          f"因违反信用修复承诺（{reason}），{record.doc_no}自 {today.isoformat()} 起恢复公示。")  # fmt: skip
    if settings is not None:
        # Last: the commitment's record goes through the ingestion pipeline, which commits all of the above first.
        hooks.broken(session, hooks.BrokenCommitment(application.id, reason, actor, today, settings))
    return application


def _signed(session: Session, application: RepairApplication, text: str, settings: Settings, today: date) -> None:
    hooks.signed(session, hooks.SignedCommitment(
        application_id=application.id, number=application.number, subject_id=application.subject_id,
        department_id=application.department_id, account_id=application.account_id, text=text,
        text_sha256=hashlib.sha256(text.encode()).hexdigest(), signed_on=today, settings=settings,
    ))  # fmt: skip


def withdraw_application(session: Session, *, account: SubjectAccount, number: str, today: date) -> RepairApplication:
    application = get_for_account(session, account, number)
    _move(session, application, "withdraw", actor=f"subject-account:{account.id}", note=None,
          audit_action=AuditAction.REPAIR_WITHDRAWN, today=today)  # fmt: skip
    return application


def resubmit_application(session: Session, *, account: SubjectAccount, number: str, statement: str,
                         files: list[IncomingFile], settings: Settings, today: date) -> RepairApplication:  # fmt: skip
    """补正: the earlier material stays; the new files are a new round; the platform's clock restarts."""
    application = get_for_account(session, account, number)
    rules.next_status(application.status, "resubmit")  # fail before storing anything
    statement = freetext.clean_text(statement, title="补正说明", min_length=4, max_length=2000)
    evidence.check_all(files, settings=settings, required=True)
    _move(session, application, "resubmit", actor=f"subject-account:{account.id}", note=statement,
          audit_action=AuditAction.REPAIR_RESUBMITTED, today=today)  # fmt: skip
    application.round += 1
    application.submitted_on = today
    calendar = _calendar_of(session, application.department_id)
    application.platform_due = calendar.add_workdays(today, load_policy(settings).platform_workdays)
    evidence.store(session, files, settings=settings, owner=f"repair:{application.id}", round_=application.round)
    return application


def _calendar_of(session: Session, department_id: int | None) -> Any:
    """The working days of the department's region (its local days over the platform's): repair deadlines."""
    department = session.get(Department, department_id) if department_id is not None else None
    return calendar_service.load_calendar(session, region=department.region if department is not None else None)


def _change(session: Session, kind: str, record: Record, application: RepairApplication, today: date) -> None:
    logged = {"publication-stopped": ChangeKind.REPAIRED, "publication-restored": ChangeKind.RESTORED}
    changelog.log(session, [(record.id, record.record_type)], logged.get(kind, ChangeKind.UPDATED))
    subject = session.get(Subject, record.subject_id)
    department = session.get(Department, record.department_id)
    notify.change_event(
        session, kind, record_id=record.id, record_type=record.record_type, doc_no=record.doc_no,
        department_code=department.code if department else None, subject_uscc=subject.uscc if subject else None,
        application=application.number, effective_on=today.isoformat(),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- reads


def get_for_account(session: Session, account: SubjectAccount, number: str) -> RepairApplication:
    accounts_service.require_identity(account)
    application = session.scalar(select(RepairApplication).where(RepairApplication.number == number.strip()[:24]))
    if application is None or application.subject_id != account.subject_id:
        raise NotFound(what="该信用修复申请")
    return application


def for_subject(session: Session, subject_id: int) -> list[RepairApplication]:
    return list(session.scalars(select(RepairApplication).where(RepairApplication.subject_id == subject_id)
                                .order_by(RepairApplication.id.desc())))  # fmt: skip


def events(session: Session, application: RepairApplication) -> list[RepairEvent]:
    return list(session.scalars(select(RepairEvent).where(RepairEvent.application_id == application.id)
                                .order_by(RepairEvent.id)))  # fmt: skip


def commitment_of(session: Session, application: RepairApplication) -> RepairCommitment | None:
    return session.scalar(select(RepairCommitment).where(RepairCommitment.application_id == application.id))


def overdue_kind(application: RepairApplication, today: date) -> str | None:
    """'department' when the department is past its days, 'platform' when the whole answer is late."""
    if application.status == RepairStatus.ACCEPTED and application.department_due and today > application.department_due:
        return "department"
    if application.status in (RepairStatus.SUBMITTED, RepairStatus.ACCEPTED) and today > application.platform_due:
        return "platform"
    return None


def _overdue_clause(today: date):  # type: ignore[no-untyped-def]
    return or_(
        (RepairApplication.status == RepairStatus.ACCEPTED) & (RepairApplication.department_due < today),
        RepairApplication.status.in_([RepairStatus.SUBMITTED, RepairStatus.ACCEPTED])
        & (RepairApplication.platform_due < today),
    )


def queue(session: Session, actor: Actor, *, status: str | None, overdue_only: bool, today: date, limit: int = 200
          ) -> list[RepairApplication]:  # fmt: skip
    """The department's (or, for the 信用办, everyone's) applications, oldest deadline first."""
    ensure(actor, Permission.REPAIRS_READ)
    query = select(RepairApplication)
    if (clause := actor.reach(RepairApplication.department_id, RepairApplication.created_at)) is not None:
        query = query.where(clause)
    if status in {s.value for s in RepairStatus}:
        query = query.where(RepairApplication.status == status)
    elif status != "all":
        query = query.where(RepairApplication.status.in_([RepairStatus.SUBMITTED, RepairStatus.RETURNED,
                                                           RepairStatus.ACCEPTED]))  # fmt: skip
    if overdue_only:
        query = query.where(_overdue_clause(today))
    query = query.order_by(RepairApplication.platform_due, RepairApplication.id).limit(limit)
    return list(session.scalars(query))


def overdue_by_department(session: Session, actor: Actor, *, today: date) -> list[tuple[str, int]]:
    """Overdue applications per department (name, count), for the 信用办's watch."""
    ensure(actor, Permission.REPAIRS_READ)
    query = (select(Department.name, func.count()).select_from(RepairApplication)
             .join(Department, Department.id == RepairApplication.department_id)
             .where(_overdue_clause(today)).group_by(Department.name).order_by(func.count().desc()))  # fmt: skip
    if (clause := actor.reach(RepairApplication.department_id, RepairApplication.created_at)) is not None:
        query = query.where(clause)  # a county's watch counts its own departments
    return [(name, count) for name, count in session.execute(query)]
