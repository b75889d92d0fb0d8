"""Use-cases of 信用承诺: the accepting department's list and fulfilment, online commitments, 告知承诺
verification, what credit checks and reports read, and the dashboard. Every write of a commitment goes
through the ingestion pipeline (a one-row batch of the department), so versions, publication and the row
rules are those of an imported file. Nothing here commits."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure_department
from xinyong.calendar.service import load_calendar
from xinyong.catalog import RecordType, load_catalog
from xinyong.codes import CodeError, mask_id_numbers, normalize_code, validate_id_number
from xinyong.commitments import rules
from xinyong.commitments.models import OnlineCommitment, TaskStatus, VerificationTask
from xinyong.commitments.rules import CommitmentConfig, Fields
from xinyong.config import Settings
from xinyong.db import begin_writing, utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.disclosure import service as disclosure
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.protect import Protector
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource, Record, RecordStatus
from xinyong.records.rules import add_months
from xinyong.regions import inherit
from xinyong.repair import hooks as repair_hooks
from xinyong.subjects.models import Subject, SubjectKind

NOTE_MAX = 2000


def config(settings: Settings) -> CommitmentConfig:
    return rules.load_config(settings.commitments_config)


def the_type(settings: Settings) -> tuple[RecordType, Fields]:
    rtype = rules.commitment_type(load_catalog(settings.catalog_dirs))
    return rtype, Fields.of(rtype)


def _value(record: Record, code: str) -> str:
    return str((record.payload or {}).get(code) or "")


@dataclass
class CommitmentView:
    """A commitment as the console, the account page and checks show it (published values only)."""

    record: Record
    code: str
    kind: str
    reason: str
    text: str
    liability: str
    status: str
    unfulfilled: str
    pursued: str
    determined_on: str
    determined_by: str
    openness: str
    valid_until: str
    authority: str
    department: str = ""

    @property
    def is_broken(self) -> bool:
        return rules.is_broken(self.status)


def view(record: Record, f: Fields, department: str = "") -> CommitmentView:
    def v(code: str) -> str:
        return _value(record, code)

    return CommitmentView(
        record=record, code=record.doc_no, kind=v(f.kind), reason=v(f.reason), text=v(f.text),
        liability=v(f.liability), status=v(f.status), unfulfilled=v(f.unfulfilled), pursued=v(f.pursued),
        determined_on=v(f.determined_on), determined_by=v(f.determined_by), openness=v(f.openness),
        valid_until=v(f.valid_until), authority=v(f.authority_name), department=department,
    )  # fmt: skip


# ------------------------------------------------------------------------------------ the department


def department_commitments(
    session: Session, *, actor: Actor, settings: Settings, kind: str | None = None, status: str | None = None,
    limit: int = 200,
) -> list[CommitmentView]:  # fmt: skip
    """The commitments the actor's department accepted (every department's for the 信用办), newest first,
    filtered by 承诺类型 and 履行状态."""
    rtype, f = the_type(settings)
    if kind and kind not in rules.kinds_of(rtype):
        raise InvalidInput(reason=f"未知的承诺类型“{kind[:20]}”（可选：{'、'.join(rules.kinds_of(rtype))}）")
    if status and status not in rules.statuses_of(rtype):
        raise InvalidInput(reason=f"未知的承诺履行状态“{status[:20]}”（可选：{'、'.join(rules.statuses_of(rtype))}）")
    query = select(Record).where(Record.record_type == rtype.key, Record.status == RecordStatus.ACTIVE.value)
    if actor.is_department_bound or actor.department_id is not None:
        query = query.where(Record.department_id == actor.department_id)
    clause = actor.reach(Record.department_id, Record.created_at)  # a county's 信用办: its county's departments
    if clause is not None:
        query = query.where(clause)
    if kind:
        query = query.where(Record.payload[f.kind].as_string() == kind)
    if status:
        query = query.where(Record.payload[f.status].as_string() == status)
    records = session.scalars(query.order_by(Record.decision_date.desc(), Record.id.desc()).limit(limit))
    names = _department_names(session)
    return [view(r, f, names.get(r.department_id, "")) for r in records]


def _department_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Department.id, Department.name))}


def get_for_department(session: Session, record_id: int, *, actor: Actor, settings: Settings) -> CommitmentView:
    """One commitment of the actor's department: another department's is refused (403), a record that is not a
    commitment does not exist here (404)."""
    rtype, f = the_type(settings)
    record = session.get(Record, record_id)
    if record is None or record.record_type != rtype.key or record.status != RecordStatus.ACTIVE:
        raise NotFound(what="该信用承诺")
    if not actor.can_reach(record.department_id, record.created_at):
        if not actor.is_department_bound:  # another county's: not found
            raise NotFound(what="该信用承诺")
        raise PermissionDenied("只能查看和认定本部门受理的信用承诺")
    return view(record, f, _department_names(session).get(record.department_id, ""))


def _row_of(record: Record, protector: Protector) -> dict[str, str]:
    """The record as a row for the pipeline: published values, with the sealed ones (ID numbers) opened."""
    row = {k: str(v) for k, v in (record.payload or {}).items() if v is not None}
    if record.sealed:
        row.update(json.loads(protector.unseal(record.sealed)))
    return row


def _store(session: Session, row: dict[str, str], *, department: Department, actor: Actor | str, settings: Settings,
           protector: Protector, rtype: RecordType, today: date) -> Record:  # fmt: skip
    """One row through the pipeline as the department's batch; its problems refuse the act (422)."""
    result = records_service.import_rows(session, [row], settings=settings, protector=protector, record_type=rtype.key,
                                         department=department, actor=actor, source=BatchSource.API, today=today)  # fmt: skip
    # The pipeline committed: what follows (the caller's writes too) reads and writes as a writer's transaction,
    # which another connection's commit in between cannot make fail on SQLite (see db.begin_writing).
    begin_writing(session)
    if result.rejected:
        problems = list(records_service.iter_problems(session, result.batch_id, severity="error"))
        raise InvalidInput(reason="；".join(p.message for p in problems[:5]) or "信用承诺未能保存")
    code = row[Fields.of(rtype).code]
    found = session.scalars(select(Record).where(Record.record_type == rtype.key, Record.department_id == department.id,
                                                 Record.doc_no == code)).one()  # fmt: skip
    session.refresh(found)  # the pipeline writes with bulk statements, past the session's copy
    return found


def record_fulfilment(
    session: Session, record_id: int, *, actor: Actor, settings: Settings, protector: Protector, today: date,
    status: str, unfulfilled: str = "", pursued: str = "", determined_on: date | None = None, note: str = "",
) -> Record:  # fmt: skip
    """The accepting department records the fulfilment (履行状态认定): a new version of the record, through the
    pipeline, with the department as 认定单位. Audited."""
    rtype, f = the_type(settings)
    current = get_for_department(session, record_id, actor=actor, settings=settings)
    ensure_department(actor, current.record.department_id)
    if status not in rules.statuses_of(rtype):
        raise InvalidInput(reason=f"未知的承诺履行状态“{status[:20]}”（可选：{'、'.join(rules.statuses_of(rtype))}）")
    department = session.get(Department, current.record.department_id)
    assert department is not None
    row = _row_of(current.record, protector)
    row.pop(f.publicity_until, None)
    row[f.status] = status
    broken = rules.is_broken(status)
    row[f.unfulfilled] = unfulfilled.strip() if broken else ""
    row[f.pursued] = pursued.strip() if broken else ""
    row[f.determined_on] = (determined_on or today).isoformat() if status != rules.IN_PROGRESS else ""
    row[f.determined_by] = department.name if status != rules.IN_PROGRESS else ""
    row[f.determined_by_code] = department.code if status != rules.IN_PROGRESS else ""
    previous = current.status
    record = _store(session, row, department=department, actor=actor, settings=settings, protector=protector,
                    rtype=rtype, today=today)  # fmt: skip
    task = session.scalar(select(VerificationTask).where(VerificationTask.record_id == record.id,
                                                         VerificationTask.status == TaskStatus.OPEN.value))  # fmt: skip
    if task is not None and status != rules.IN_PROGRESS:
        # A determination of the fulfilment answers the verification too: kept, or broken with its 追究.
        task.status = TaskStatus.UNTRUE if broken else TaskStatus.CONFIRMED
        task.actions = row[f.pursued][:500] or None
        task.finding, task.verified_on, task.verified_by = f"履行状态认定：{status}", today, actor.label[:100]
    audit.record(session, AuditAction.COMMITMENT_FULFILMENT, actor=actor, department_id=department.id,
                 subject_id=record.subject_id, target=record.doc_no, reason=mask_id_numbers(note)[:500] or None,
                 details={"from": previous, "to": status, "pursued": row[f.pursued][:200]})  # fmt: skip
    return record


# -------------------------------------------------------------------------------------- made online


TEMPLATES_SETTING = "commitments.templates"


def templates(settings: Settings, session: Session | None = None, *, region: str | None = None) -> list[rules.Template]:
    """The published templates; with a session, those `region` publishes (`region_templates`)."""
    every = list(config(settings).templates.values())
    if session is None:
        return every
    chosen = region_templates(session, region)
    return every if chosen is None else [t for t in every if t.key in chosen]


def region_templates(session: Session, region: str | None) -> frozenset[str] | None:
    """The keys of the templates a region publishes: its own choice, else its nearest ancestor's, else the
    platform's; None: every template of the configuration."""
    value = inherit.setting(session, region, TEMPLATES_SETTING)
    return None if value is None else frozenset(k for k in value.split(",") if k)


def set_region_templates(session: Session, region: str | None, keys: list[str] | None, *, actor: Actor,
                         settings: Settings) -> str | None:  # fmt: skip
    """Choose the templates a region publishes (`keys` None: inherit its parent's choice again). Each key must
    be a template of the configuration. A county's 信用办 chooses its own region's only."""
    owner = inherit.owner(session, region)
    if keys is not None:
        cfg = config(settings)
        unknown = [k for k in keys if k not in cfg.templates]
        if unknown:
            raise NotFound(what=f"承诺书模板 {'、'.join(unknown)}（可用：{'、'.join(cfg.templates)}）")
    inherit.set_setting(session, owner, TEMPLATES_SETTING, None if keys is None else ",".join(sorted(set(keys))),
                        actor=actor)  # fmt: skip
    return owner


def template_hash(template: rules.Template) -> str:
    return rules.content_hash(template_key=template.key, text=template.text, liability=template.liability,
                              subject_name="", made_on=date.min, valid_until=date.min)  # fmt: skip


def _next_code(session: Session, region: str, made_on: date, rtype: RecordType) -> str:
    prefix = f"{region}{made_on:%Y%m%d}"
    last = session.scalar(select(func.max(Record.doc_no)).where(Record.record_type == rtype.key,
                                                                  Record.doc_no.like(f"{prefix}%")))  # fmt: skip
    serial = int(last[14:]) + 1 if last and last[14:].isdigit() else 1
    return rules.make_code(region, made_on, serial)


def make_online(
    session: Session, *, account: SubjectAccount, template_key: str, department_id: int | None, agreed: bool,
    shown_hash: str, settings: Settings, protector: Protector, today: date, claimed_code: str = "",
) -> OnlineCommitment:  # fmt: skip
    """A signed-in subject commits to a published template: only in its own name, only having agreed to the
    text it was shown (the hash of the template's text must be the one shown), once while the same commitment
    to the same department is in force. Stored as a record of the accepting department, with the subject's
    copy; a 告知承诺 gets its verification task. Audited.

    Who commits is the account's subject, whatever its kind: its USCC, or for a person the ID number sealed in
    the register. Codes are public, so a code in the request decides nothing; one naming another subject
    (`claimed_code`, a tampered form) is refused rather than ignored, so that the attempt is visible."""
    accounts_service.require_identity(account)
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    if claimed_code.strip() and not _is_own_code(subject, claimed_code, protector):
        raise PermissionDenied("只能以本账户所属主体的名义作出信用承诺，不能代他人承诺")
    cfg = config(settings)
    template = cfg.template(template_key)
    if not agreed:
        raise InvalidInput(reason="请完整阅读承诺书并勾选“本人（本单位）已阅读并同意上述承诺”")
    if shown_hash != template_hash(template):
        raise InvalidInput(reason="承诺书内容已更新，请重新阅读后再作出承诺")
    department = session.get(Department, department_id) if department_id else None
    if department is None or not department.is_active:
        raise InvalidInput(reason="请选择承诺受理单位")
    published = region_templates(session, department.region)
    if published is not None and template.key not in published:
        raise InvalidInput(reason=f"{department.name}所在区划未采用承诺书模板“{template.name}”，请选择本区划的受理单位或模板")
    if not _has_identity(subject):
        raise InvalidInput(reason="该主体在信用主体库中缺少统一社会信用代码或证件信息，暂不能在线作出信用承诺，请到受理单位窗口办理")
    rtype, f = the_type(settings)
    duplicate = session.scalar(
        select(OnlineCommitment.id).join(Record, Record.id == OnlineCommitment.record_id).where(
            OnlineCommitment.subject_id == subject.id, OnlineCommitment.template_key == template.key,
            OnlineCommitment.department_id == department.id, OnlineCommitment.valid_until >= today,
            Record.payload[f.status].as_string() == rules.IN_PROGRESS,
        ).limit(1)
    )  # fmt: skip
    if duplicate is not None:
        raise AlreadyExists(what="同一承诺书向该受理单位作出、仍在有效期内的信用承诺")
    valid_until = add_months(today, template.valid_months)
    code = _next_code(session, department.code[2:8], today, rtype)
    row = {
        f.code: code, f.name: subject.name, f.kind_of_subject: subject.kind.label, f.kind: template.kind,
        f.reason: template.reason, f.text: template.text, f.liability: template.liability,
        f.made_on: today.isoformat(), f.valid_until: valid_until.isoformat(), f.status: rules.IN_PROGRESS,
        f.authority_name: department.name, f.authority_code: department.code, f.openness: template.openness,
        f.source_name: department.name, f.source_code: department.code,
    }  # fmt: skip
    row.update(_identity(subject, f, protector))
    record = _store(session, row, department=department, actor=f"主体在线承诺（账户 {account.id}）", settings=settings,
                    protector=protector, rtype=rtype, today=today)  # fmt: skip
    online = OnlineCommitment(
        record_id=record.id, subject_id=subject.id, account_id=account.id, department_id=department.id,
        template_key=template.key, code=code, text=template.text, liability=template.liability, basis=template.basis,
        content_hash=rules.content_hash(template_key=template.key, text=template.text, liability=template.liability,
                                        subject_name=subject.name, made_on=today, valid_until=valid_until),
        made_on=today, valid_until=valid_until, agreed_at=utcnow(),
    )  # fmt: skip
    session.add(online)
    if template.kind in cfg.verify_kinds:
        matter = cfg.matters[template.matter]
        _add_task(session, record, code=code, matter=matter.name, workdays=matter.verify_workdays)
    session.flush()  # the copy's id is its address
    audit.record(session, AuditAction.COMMITMENT_MADE, actor=f"subject-account:{account.id}",
                 department_id=department.id, subject_id=subject.id, target=code,
                 details={"template": template.key, "hash": online.content_hash})  # fmt: skip
    return online


def _has_identity(subject: Subject) -> bool:
    """Whether the register holds the code the row needs for the subject's kind (as the import requires it)."""
    if subject.kind is SubjectKind.PERSON:
        return bool(subject.id_sealed)
    return bool(subject.uscc)


def _identity(subject: Subject, f: Fields, protector: Protector) -> dict[str, str]:
    """The subject's code for the row, from the register: a person's ID number is unsealed only to go back
    into the pipeline, which seals it again in the record and publishes the masked form."""
    if subject.kind is SubjectKind.PERSON:
        return {f.id_type: "居民身份证", f.id_number: protector.unseal(subject.id_sealed or "")}
    return {f.uscc: subject.uscc or ""}


def _is_own_code(subject: Subject, code: str, protector: Protector) -> bool:
    text = normalize_code(code)
    if subject.uscc and text == subject.uscc:
        return True
    try:
        return subject.id_hash is not None and protector.lookup_hash(validate_id_number(text)) == subject.id_hash
    except CodeError:
        return False


def identity_shown(subject: Subject) -> tuple[str, str]:
    """The subject's code as its own pages show it: (label, value), an ID number masked."""
    if subject.kind is SubjectKind.PERSON:
        return "证件号码（居民身份证）", subject.id_masked or ""
    return "统一社会信用代码", subject.uscc or ""


def own_commitments(session: Session, account: SubjectAccount, *, settings: Settings) -> list[CommitmentView]:
    """Every commitment of the account's subject, whatever its 公开类型."""
    accounts_service.require_identity(account)
    rtype, f = the_type(settings)
    records = session.scalars(select(Record).where(
        Record.record_type == rtype.key, Record.subject_id == account.subject_id,
        Record.status == RecordStatus.ACTIVE.value).order_by(Record.decision_date.desc(), Record.id.desc()))  # fmt: skip
    names = _department_names(session)
    return [view(r, f, names.get(r.department_id, "")) for r in records]


def own_copy(session: Session, account: SubjectAccount, online_id: int, *, settings: Settings
             ) -> tuple[OnlineCommitment, CommitmentView]:  # fmt: skip
    accounts_service.require_identity(account)
    online = session.get(OnlineCommitment, online_id)
    if online is None or online.subject_id != account.subject_id:
        raise NotFound(what="该信用承诺书")
    record = session.get(Record, online.record_id)
    assert record is not None
    _, f = the_type(settings)
    department = session.get(Department, online.department_id)
    return online, view(record, f, department.name if department else "")


def online_of(session: Session, record_ids: list[int]) -> dict[int, OnlineCommitment]:
    if not record_ids:
        return {}
    rows = session.scalars(select(OnlineCommitment).where(OnlineCommitment.record_id.in_(record_ids)))
    return {o.record_id: o for o in rows}


# ---------------------------------------------------------------------------- repair commitments


def repair_key(application_id: int) -> str:
    return f"repair:{application_id}"


def keep_repair_commitment(session: Session, signed: repair_hooks.SignedCommitment) -> None:
    """The 信用修复承诺 a subject signs in a repair application, kept as a 信用修复型 commitment accepted by the
    department that decides the repair. A subject the platform cannot identify by code (no USCC, no sealed ID
    number) is not refused its repair: its commitment stays in the repair file only."""
    cfg = config(signed.settings)
    subject = session.get(Subject, signed.subject_id)
    department = session.get(Department, signed.department_id)
    if cfg.repair is None or subject is None or department is None or not (subject.uscc or subject.id_sealed):
        return
    settings, protector = signed.settings, make_protector(signed.settings)
    rtype, f = the_type(settings)
    today = signed.signed_on
    valid_until = add_months(today, cfg.repair.valid_months)
    code = _next_code(session, department.code[2:8], today, rtype)
    row = {
        f.code: code, f.name: subject.name, f.kind_of_subject: subject.kind.label, f.kind: rules.REPAIR_KIND,
        f.reason: cfg.repair.reason.format(number=signed.number), f.text: signed.text[:4000],
        f.liability: cfg.repair.liability, f.made_on: today.isoformat(), f.valid_until: valid_until.isoformat(),
        f.status: rules.IN_PROGRESS, f.authority_name: department.name, f.authority_code: department.code,
        f.openness: cfg.repair.openness, f.source_name: department.name, f.source_code: department.code,
        **_identity(subject, f, protector),
    }  # fmt: skip
    try:
        record = _store(session, row, department=department, actor=f"信用修复申请 {signed.number}", settings=settings,
                        protector=protector, rtype=rtype, today=today)  # fmt: skip
    except InvalidInput as refused:
        _not_recorded(session, signed.application_id, actor=Actor.system("repair"), subject_id=subject.id,
                      department_id=department.id, refused=refused, step="kept")  # fmt: skip
        return
    online = OnlineCommitment(
        record_id=record.id, subject_id=subject.id, account_id=signed.account_id, department_id=department.id,
        template_key=repair_key(signed.application_id), code=code, text=signed.text, liability=cfg.repair.liability,
        basis=cfg.repair.basis, content_hash=signed.text_sha256, made_on=today, valid_until=valid_until,
    )  # fmt: skip
    session.add(online)


def break_repair_commitment(session: Session, broken: repair_hooks.BrokenCommitment) -> None:
    """违诺 of a repair commitment: its commitment record becomes 全部未履行, the 追究 being the restored publication."""
    online = session.scalar(select(OnlineCommitment).where(
        OnlineCommitment.template_key == repair_key(broken.application_id)))  # fmt: skip
    if online is None:
        return
    try:
        record_fulfilment(session, online.record_id, actor=broken.actor, settings=broken.settings,
                          protector=make_protector(broken.settings), today=broken.today, status=rules.NOT_FULFILLED,
                          unfulfilled=broken.reason, pursued="撤销信用修复结果，恢复公示", note="违反信用修复承诺")  # fmt: skip
    except InvalidInput as refused:
        _not_recorded(session, broken.application_id, actor=broken.actor, subject_id=online.subject_id,
                      department_id=online.department_id, refused=refused, step="broken")  # fmt: skip


def _not_recorded(session: Session, application_id: int, *, actor: Actor | str, subject_id: int, department_id: int,
                  refused: InvalidInput, step: str) -> None:  # fmt: skip
    """The pipeline refused a repair commitment's record. It had committed the repair's act before (see
    `_store`), which stands: the signed commitment stays in the repair file, and the refusal is audited for the
    信用办 to look into (the batch, with its problems, is in the department's reports)."""
    audit.record(session, AuditAction.COMMITMENT_NOT_RECORDED, actor=actor, department_id=department_id,
                 subject_id=subject_id, target=f"repair:{application_id}", reason=refused.message,
                 details={"step": step})  # fmt: skip


# ------------------------------------------------------------------------------------- verification


def _add_task(session: Session, record: Record, *, code: str, matter: str, workdays: int) -> VerificationTask:
    department = session.get(Department, record.department_id)
    calendar = load_calendar(session, region=department.region if department is not None else None)
    task = VerificationTask(record_id=record.id, department_id=record.department_id, code=code, matter=matter[:500],
                            made_on=record.decision_date, workdays=workdays,
                            due_on=rules.verification_due(calendar, record.decision_date, workdays))  # fmt: skip
    session.add(task)
    return task


def _without_task(settings: Settings, department_id: int | None) -> Select[Any] | None:
    """The 告知承诺 in progress that have no verification task yet; None when no kind is verified."""
    cfg = config(settings)
    rtype, f = the_type(settings)
    if not cfg.verify_kinds:
        return None
    query = select(Record).outerjoin(VerificationTask, VerificationTask.record_id == Record.id).where(
        Record.record_type == rtype.key, Record.status == RecordStatus.ACTIVE.value, VerificationTask.id.is_(None),
        Record.payload[f.kind].as_string().in_(cfg.verify_kinds),
        Record.payload[f.status].as_string() == rules.IN_PROGRESS,
    )  # fmt: skip
    if department_id is not None:
        query = query.where(Record.department_id == department_id)
    return query


def tasks_missing(session: Session, *, settings: Settings, department_id: int | None = None) -> bool:
    """Whether `sync_tasks` has a task to create: a read, so that a page creates them in a writer's transaction
    of its own only when there are some."""
    query = _without_task(settings, department_id)
    return query is not None and session.scalar(query.with_only_columns(Record.id).limit(1)) is not None


def sync_tasks(session: Session, *, settings: Settings, department_id: int | None = None) -> int:
    """A verification task for every 告知承诺 (imported or made online) that has none yet; the deadline counts
    the working days of its matter (承诺事由 naming a configured matter) from the day it was made."""
    cfg = config(settings)
    _, f = the_type(settings)
    query = _without_task(settings, department_id)
    if query is None:
        return 0
    created = 0
    for record in session.scalars(query.limit(5000)):
        reason = _value(record, f.reason)
        _add_task(session, record, code=record.doc_no, matter=reason, workdays=cfg.workdays_for(reason))
        created += 1
    if created:
        session.flush()
    return created


@dataclass
class TaskRow:
    task: VerificationTask
    item: CommitmentView
    is_overdue: bool


def tasks(session: Session, *, actor: Actor, settings: Settings, today: date, show: str = "open",
          sync: bool = True) -> list[TaskRow]:  # fmt: skip
    """The verification tasks the actor sees; their missing tasks are created first unless the caller has done it
    (`sync`: False, the console's page, which writes them in a writer's transaction of their own)."""
    _, f = the_type(settings)
    if sync:
        sync_tasks(session, settings=settings, department_id=actor.department_id)
    query = select(VerificationTask, Record).join(Record, Record.id == VerificationTask.record_id)
    if actor.department_id is not None:
        query = query.where(VerificationTask.department_id == actor.department_id)
    clause = actor.reach(VerificationTask.department_id, VerificationTask.created_at)
    if clause is not None:
        query = query.where(clause)
    if show == "open":
        query = query.where(VerificationTask.status == TaskStatus.OPEN.value)
    rows = session.execute(query.order_by(VerificationTask.due_on, VerificationTask.id).limit(500)).all()
    return [TaskRow(task, view(record, f), task.status is TaskStatus.OPEN and task.due_on < today)
            for task, record in rows]  # fmt: skip


def verify(
    session: Session, task_id: int, *, actor: Actor, settings: Settings, protector: Protector, today: date,
    finding: str, note: str = "", actions: list[str] | None = None,
) -> VerificationTask:  # fmt: skip
    """The accepting department's finding: 属实 closes the task; 承诺不实 marks the commitment 全部未履行 with the
    追究 taken (终止办理, 撤销决定 …) through the pipeline, and both are audited. The subject may object through
    the objection procedure like against any record."""
    task = session.get(VerificationTask, task_id)
    if task is None or (not actor.is_department_bound and not actor.can_reach(task.department_id, task.created_at)):
        raise NotFound(what="该核查任务")
    if not actor.can_reach(task.department_id):
        raise PermissionDenied("只能核查本部门受理的信用承诺")
    if task.status is not TaskStatus.OPEN:
        raise InvalidInput(reason=f"该核查任务已办结（{task.status.label}）")
    cfg = config(settings)
    note = mask_id_numbers(note.strip())
    if len(note) > NOTE_MAX:
        raise InvalidInput(reason=f"核查情况过长（{len(note)} 字），最多 {NOTE_MAX} 字")
    chosen = [a for a in (actions or []) if a]
    unknown = [a for a in chosen if a not in cfg.actions]
    if unknown:
        raise InvalidInput(reason=f"未知的追究措施“{unknown[0][:20]}”（可选：{'、'.join(cfg.actions)}）")
    if finding == TaskStatus.UNTRUE.value:
        if not note:
            raise InvalidInput(reason="核查认定承诺不实的，须写明不实的承诺内容")
        if not chosen:
            raise InvalidInput(reason="核查认定承诺不实的，须选择已采取的追究措施（违诺责任追究内容）")
        record_fulfilment(session, task.record_id, actor=actor, settings=settings, protector=protector, today=today,
                          status=rules.NOT_FULFILLED, unfulfilled=f"经核查承诺不实：{note}", pursued="；".join(chosen),
                          determined_on=today, note="告知承诺核查：承诺不实")  # fmt: skip
        task.status, task.actions = TaskStatus.UNTRUE, "；".join(chosen)[:500]
    elif finding == TaskStatus.CONFIRMED.value:
        task.status = TaskStatus.CONFIRMED
    else:
        raise InvalidInput(reason="请选择核查结论：核查属实或承诺不实")
    task.finding, task.verified_on, task.verified_by = note or None, today, actor.label[:100]
    audit.record(session, AuditAction.COMMITMENT_VERIFIED, actor=actor, department_id=task.department_id,
                 target=task.code, reason=note[:500] or None,
                 details={"finding": task.status.value, "actions": task.actions, "due_on": task.due_on.isoformat(),
                          "on_time": task.on_time})  # fmt: skip
    return task


# ----------------------------------------------------------------------------------- checks, reports


@dataclass
class SubjectCommitments:
    broken: list[dict[str, Any]] = field(default_factory=list)
    broken_total: int = 0  # including those this department may not see in detail (不予公开 elsewhere)
    serious: int = 0


_STATEMENTS: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _broken_statement(rtype: RecordType, f: Fields) -> Any:
    """The broken commitments of some subjects: built once per type (building costs more than running it)."""
    key = ("broken", rtype.key, f.status)
    hit = _STATEMENTS.get(key)
    if hit is None:
        # No ORDER BY: sorting by decision date would tempt SQLite into the (type, decision date) index, a scan of
        # every commitment; the few rows of some subjects are sorted here instead.
        statement = select(Record.subject_id, Record.doc_no, Record.department_id, Record.payload,
                           Record.decision_date, Record.id).where(
            Record.subject_id.in_(bindparam("ids", expanding=True)), Record.record_type == rtype.key,
            Record.status == RecordStatus.ACTIVE.value, Record.payload[f.status].as_string().in_(rules.BROKEN),
        )  # fmt: skip
        hit = _STATEMENTS[key] = (None, statement)
    return hit[1]


def _serious_statement(session: Session, settings: Settings, cfg: CommitmentConfig, today: date) -> Any:
    """Serious negative records in publication, counted per subject; one statement per day and policy."""
    negative = tuple(load_catalog(settings.catalog_dirs).negative_keys)
    if not negative or not cfg.serious_tiers:
        return None
    policy = disclosure.load_policy(settings)
    clause = disclosure.published_clause(session, policy, today, subject_kind=None)
    key = ("serious", id(policy), today, negative, cfg.serious_tiers, id(clause))
    hit = _STATEMENTS.get(key)
    if hit is None or hit[0] is not clause:
        if len(_STATEMENTS) > 64:
            _STATEMENTS.clear()
        statement = (
            select(Record.subject_id, func.count()).join(Subject, Subject.id == Record.subject_id)
            .where(Record.subject_id.in_(bindparam("ids", expanding=True)), Record.record_type.in_(negative),
                   Record.tier.in_(cfg.serious_tiers), clause)
            .group_by(Record.subject_id)
        )  # fmt: skip
        hit = _STATEMENTS[key] = (clause, statement)  # holding the clause keeps its id from being reused
    return hit[1]


def broken_for_check(session: Session, subject_ids: list[int], *, settings: Settings, department_id: int | None,
                     today: date, with_serious: bool = True) -> dict[int, SubjectCommitments]:  # fmt: skip
    """Broken commitments per subject for a department's credit check: every 可向社会公开 and 特定范围内公开 one,
    and the 不予公开 ones the checking department accepted itself; with the serious negative records the
    告知承诺 rule reads (`with_serious`)."""
    if not subject_ids:
        return {}
    rtype, f = the_type(settings)
    cfg = config(settings)
    found: dict[int, SubjectCommitments] = defaultdict(SubjectCommitments)
    connection = session.connection()
    names: dict[int, str] | None = None
    for start in range(0, len(subject_ids), 900):
        part = {"ids": subject_ids[start : start + 900]}
        found_rows = sorted(connection.execute(_broken_statement(rtype, f), part),
                            key=lambda r: (r.decision_date, r.id), reverse=True)
        for row in found_rows:
            item = found[row.subject_id]
            item.broken_total += 1
            payload = row.payload or {}
            if payload.get(f.openness) == rules.PRIVATE and row.department_id != department_id:
                continue
            if names is None:
                names = departments_service.names_by_id(session)
            item.broken.append({
                "code": row.doc_no, "department": names.get(row.department_id, ""),
                **{name: str(payload.get(code) or "") for name, code in (
                    ("kind", f.kind), ("reason", f.reason), ("status", f.status), ("liability", f.liability),
                    ("unfulfilled", f.unfulfilled), ("pursued", f.pursued), ("determined_on", f.determined_on),
                    ("determined_by", f.determined_by), ("openness", f.openness))},
            })  # fmt: skip
        serious = _serious_statement(session, settings, cfg, today) if with_serious else None
        if serious is not None:
            for subject_id, count in connection.execute(serious, part):
                found[subject_id].serious = int(count)
    return dict(found)


def notice_commitment_verdict(item: SubjectCommitments, cfg: CommitmentConfig) -> dict[str, Any]:
    """Whether the subject may use 告知承诺 (国办发〔2020〕42号): not with a broken commitment or a serious record,
    until repaired; the answer names the reason and the repair route."""
    reasons = []
    if item.broken_total:
        reasons.append(f"存在 {item.broken_total} 条违诺记录（部分履行或全部未履行的信用承诺）")
    if item.serious:
        reasons.append(f"存在 {item.serious} 条公示期内的严重失信记录")
    if not reasons:
        return {"allowed": True, "reason": None, "repair_route": None, "basis": cfg.consequences_basis}
    return {"allowed": False, "reason": "不适用告知承诺：" + "；".join(reasons), "repair_route": cfg.repair_route,
            "basis": cfg.consequences_basis}  # fmt: skip


def published_for_subject(session: Session, subject_id: int, *, settings: Settings, today: date, public: bool,
                          start: date | None = None, end: date | None = None) -> list[CommitmentView]:  # fmt: skip
    """A subject's commitments for its credit report: the public report shows what the portal shows."""
    rtype, f = the_type(settings)
    query = select(Record).where(Record.record_type == rtype.key, Record.subject_id == subject_id,
                                 Record.status == RecordStatus.ACTIVE.value)  # fmt: skip
    if public:
        policy = disclosure.load_policy(settings)
        query = query.join(Subject, Subject.id == Record.subject_id).where(
            disclosure.published_clause(session, policy, today, subject_kind=Subject.kind))
    if start is not None:
        query = query.where(Record.decision_date >= start)
    if end is not None:
        query = query.where(Record.decision_date <= end)
    names = _department_names(session)
    records = session.scalars(query.order_by(Record.decision_date.desc(), Record.id.desc()).limit(200))
    return [view(r, f, names.get(r.department_id, "")) for r in records]


# -------------------------------------------------------------------------------------- dashboard


@dataclass
class DashboardRow:
    department_id: int
    department: str
    accepted: int = 0
    broken: int = 0
    tasks: int = 0
    verified: int = 0
    verified_on_time: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> str:
        return f"{self.verified_on_time / self.verified:.0%}" if self.verified else "—"


def dashboard(session: Session, *, actor: Actor, settings: Settings, today: date, sync: bool = True
              ) -> list[DashboardRow]:  # fmt: skip
    """Per department: commitments accepted, broken, verification tasks, verified on time, overdue (the missing
    tasks created first unless `sync` is False, as in `tasks`)."""
    rtype, f = the_type(settings)
    if sync:
        sync_tasks(session, settings=settings, department_id=actor.department_id)
    names = _department_names(session)
    rows: dict[int, DashboardRow] = {}

    def row(department_id: int) -> DashboardRow:
        if department_id not in rows:
            rows[department_id] = DashboardRow(department_id, names.get(department_id, ""))
        return rows[department_id]

    scope = [Record.record_type == rtype.key, Record.status == RecordStatus.ACTIVE.value]
    task_scope = []
    if actor.department_id is not None:
        scope.append(Record.department_id == actor.department_id)
        task_scope.append(VerificationTask.department_id == actor.department_id)
    records_in, tasks_in = actor.reach(Record.department_id, Record.created_at), actor.reach(
        VerificationTask.department_id, VerificationTask.created_at)  # a county's 信用办: its county's departments
    if records_in is not None and tasks_in is not None:
        scope.append(records_in)
        task_scope.append(tasks_in)
    is_broken = Record.payload[f.status].as_string().in_(rules.BROKEN)
    for department_id, accepted, broken in session.execute(
        select(Record.department_id, func.count(), func.count().filter(is_broken)).where(*scope)
        .group_by(Record.department_id)
    ):  # fmt: skip
        item = row(department_id)
        item.accepted, item.broken = int(accepted), int(broken)
    done = VerificationTask.status != TaskStatus.OPEN.value
    for department_id, total, verified, on_time, overdue in session.execute(
        select(VerificationTask.department_id, func.count(), func.count().filter(done),
               func.count().filter(and_(done, VerificationTask.verified_on <= VerificationTask.due_on)),
               func.count().filter(and_(~done, VerificationTask.due_on < today)))
        .where(*task_scope).group_by(VerificationTask.department_id)
    ):  # fmt: skip
        item = row(department_id)
        item.tasks, item.verified, item.verified_on_time, item.overdue = int(total), int(verified), int(on_time), int(overdue)
    return sorted(rows.values(), key=lambda r: (-r.accepted, r.department))
