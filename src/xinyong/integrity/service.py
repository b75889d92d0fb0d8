"""政务诚信: the board of government bodies' cases, court pre-listing notices, civil servants' files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor, Permission
from xinyong.alerts import service as alerts
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.calendar.service import load_calendar
from xinyong.codes import CodeError, mask_id_number, mask_id_numbers, validate_id_number
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinyong.integrity.models import (
    CaseStatus,
    CivilServantRecord,
    IntegrityCase,
    NoticeStatus,
    PrelistingNotice,
)
from xinyong.integrity.rules import IntegrityConfig, age_in_days, load_config
from xinyong.lists import service as lists_service
from xinyong.lists.models import ListEntry, ListType
from xinyong.protect import Protector
from xinyong.regions import service as regions_service
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject

LISTED_RULE = "government-listed"
NOTICE_RULE = "court-prelisting"
TEXT_MAX = 2000


def config(settings: Settings) -> IntegrityConfig:
    return load_config(settings.integrity_config)


def government_clause(cfg: IntegrityConfig):  # type: ignore[no-untyped-def]
    return func.substr(Subject.uscc, 1, 2).in_(cfg.government_pairs)


def _government_subject(session: Session, code: str, *, cfg: IntegrityConfig, protector: Protector) -> Subject:
    subject = subjects_service.find_by_code(session, code, protector)
    if subject is None:
        raise NotFound(what=f"代码为“{code[:30]}”的信用主体")
    if not cfg.is_government(subject.uscc):
        raise InvalidInput(reason=f"“{subject.name}”不是政府机构（统一社会信用代码前两位须为 {'、'.join(cfg.government_pairs)}）")
    return subject


def region_codes(session: Session, actor: Actor | None) -> frozenset[str] | None:
    """The regions whose government bodies' cases the actor sees (None: all). A county's users (its 信用办, its
    departments' staff) see their county's; the city's, and any install of one region, see every case."""
    return None if actor is None else regions_service.reachable(session, actor)


def _in_regions(codes: frozenset[str], supervisor, created, subject_code):  # type: ignore[no-untyped-def]
    """A case (or notice) lies in `codes` when its supervising department is there now, or, with no supervisor,
    when the government body's code was issued there (the 3rd to 8th characters of the 统一社会信用代码 are the
    GB/T 2260 code of the issuing authority's region)."""
    departments = select(Department.id).where(Department.region.in_(sorted(codes)))
    return or_(supervisor.in_(departments),
               and_(supervisor.is_(None), func.substr(subject_code, 3, 6).in_(sorted(codes))))  # fmt: skip


def _reaches(session: Session, actor: Actor | None, supervisor_id: int | None, subject_id: int) -> bool:
    codes = region_codes(session, actor)
    if codes is None:
        return True
    if supervisor_id is not None:
        department = session.get(Department, supervisor_id)
        return department is not None and department.region in codes
    subject = session.get(Subject, subject_id)
    return subject is not None and (subject.uscc or "")[2:8] in codes


def _supervisor(session: Session, supervisor_id: int | None, actor: Actor | None = None) -> Department | None:
    if supervisor_id is None:
        return None
    department = session.get(Department, supervisor_id)
    codes = region_codes(session, actor)
    if department is None or (codes is not None and department.region not in codes):
        raise NotFound(what="该监管单位")
    return department


def _text(value: str | None, what: str, *, required: bool = True, limit: int = TEXT_MAX) -> str | None:
    """Typed text, any ID number in it masked (the civil servant's own is sealed apart, see below)."""
    value = mask_id_numbers((value or "").strip())
    if not value:
        if required:
            raise InvalidInput(reason=f"请填写{what}")
        return None
    if len(value) > limit:
        raise InvalidInput(reason=f"{what}不能超过 {limit} 个字")
    return value


# ------------------------------------------------------------------------------------------------ cases


def _warn_listed(session: Session, case: IntegrityCase, subject: Subject, cfg: IntegrityConfig, actor: Actor | str) -> None:
    kind = cfg.case_kinds.get(case.kind, case.kind)
    alerts.raise_alert(
        session, rule=LISTED_RULE, key=f"case:{case.id}", department_id=case.supervisor_id, actor=actor,
        title=f"政府机构新增失信记录：{subject.name}（{kind}）",
        body=(f"{subject.name}（{subject.uscc}）于 {case.listed_on.isoformat()} 新增{kind}记录：{case.summary}。"
              f"须于 {case.clear_by.isoformat()} 前清零。"),
        link=f"/admin/integrity#case-{case.id}",
    )  # fmt: skip


def open_case(
    session: Session,
    *,
    code: str,
    kind: str,
    summary: str,
    reference: str | None,
    amount: str | None,
    listed_on: date | None,
    supervisor_id: int | None,
    clear_by: date | None,
    actor: Actor,
    settings: Settings,
    protector: Protector,
    today: date,
) -> IntegrityCase:
    """A 失信 record of a government body, entered by the 信用办; the supervising body is warned at once."""
    cfg = config(settings)
    if kind not in cfg.case_kinds:
        raise InvalidInput(reason=f"未知的失信记录类别“{kind[:20]}”")
    subject = _government_subject(session, code, cfg=cfg, protector=protector)
    listed_on = listed_on or today
    if listed_on > today:
        raise InvalidInput(reason="列入日期不能晚于今天")
    clear_by = clear_by or listed_on + timedelta(days=cfg.clear_within_days)
    if clear_by < listed_on:
        raise InvalidInput(reason="清零期限不能早于列入日期")
    amount_value = None
    if amount and amount.strip():
        try:
            amount_value = Decimal(amount.strip().replace(",", ""))
        except InvalidOperation:
            raise InvalidInput(reason=f"金额“{amount[:20]}”不是数字") from None
        if amount_value < 0 or amount_value >= Decimal("1e16"):
            raise InvalidInput(reason="金额须为非负数")
    _supervisor(session, supervisor_id, actor)
    if not _reaches(session, actor, supervisor_id, subject.id):
        raise InvalidInput(reason="该政府机构不在本区划内，请指定本区划的监管单位")
    case = IntegrityCase(
        subject_id=subject.id, kind=kind, reference=_text(reference, "案号或文书号", required=False, limit=128),
        summary=_text(summary, "失信情形") or "", amount_yuan=amount_value, listed_on=listed_on,
        supervisor_id=supervisor_id, clear_by=clear_by, status=CaseStatus.OPEN, created_by=actor.label[:100],
    )  # fmt: skip
    session.add(case)
    session.flush()  # the warning and the audit entry name it
    audit.record(session, AuditAction.INTEGRITY_CASE_SAVED, actor=actor, subject_id=subject.id,
                 department_id=supervisor_id, target=f"integrity-case:{case.id}",
                 details={"kind": kind, "clear_by": clear_by.isoformat()})  # fmt: skip
    _warn_listed(session, case, subject, cfg, actor)
    return case


def sync_listings(session: Session, *, settings: Settings, today: date, actor: Actor | str) -> list[IntegrityCase]:
    """Put every list entry in force of the configured list types whose subject is a government body on the
    board (once), with the default clearing date; each new one warns its supervising body (the 信用办 until
    one is set). Entries that ended clear their case."""
    cfg = config(settings)
    if not cfg.listing_types:
        return []
    entries = session.execute(
        select(ListEntry, Subject)
        .join(ListType, ListType.id == ListEntry.list_type_id)
        .join(Subject, Subject.id == ListEntry.subject_id)
        .outerjoin(IntegrityCase, IntegrityCase.list_entry_id == ListEntry.id)
        .where(ListType.key.in_(cfg.listing_types), government_clause(cfg), IntegrityCase.id.is_(None),
               lists_service.in_force_clause(today))
        .order_by(ListEntry.id)
    ).all()  # fmt: skip
    created = []
    for entry, subject in entries:
        listed_on = entry.valid_from or entry.decided_on or today
        case = IntegrityCase(
            subject_id=subject.id, kind=cfg.listing_case_kind, list_entry_id=entry.id, reference=entry.source_ref,
            summary=entry.reasons[:TEXT_MAX], listed_on=listed_on,
            clear_by=listed_on + timedelta(days=cfg.clear_within_days), status=CaseStatus.OPEN,
            created_by=actor.label[:100] if isinstance(actor, Actor) else actor[:100],
        )  # fmt: skip
        session.add(case)
        session.flush()
        audit.record(session, AuditAction.INTEGRITY_CASE_SAVED, actor=actor, subject_id=subject.id,
                     target=f"integrity-case:{case.id}", details={"list_entry": entry.id})  # fmt: skip
        _warn_listed(session, case, subject, cfg, actor)
        created.append(case)
    # A listing that ended (removed, expired) is cleared on the day it ended.
    ended = session.execute(
        select(IntegrityCase, ListEntry).join(ListEntry, ListEntry.id == IntegrityCase.list_entry_id)
        .where(IntegrityCase.status == CaseStatus.OPEN, ListEntry.ended_on.is_not(None))
    ).all()  # fmt: skip
    for case, entry in ended:
        _clear(session, case, cleared_on=entry.ended_on or today, note="名单条目已移出或期满", actor=actor)
    return created


def get_case(session: Session, case_id: int, *, actor: Actor | None = None) -> IntegrityCase:
    """A case by id; another county's answers not found."""
    case = session.get(IntegrityCase, case_id)
    if case is None or not _reaches(session, actor, case.supervisor_id, case.subject_id):
        raise NotFound(what="该政务失信记录")
    return case


def follow_up(session: Session, case_id: int, *, supervisor_id: int | None, clear_by: date | None,
              actor: Actor) -> IntegrityCase:  # fmt: skip
    """Name the supervising body and the clearing date of a case; a new supervisor is warned."""
    case = get_case(session, case_id, actor=actor)
    if case.status is not CaseStatus.OPEN:
        raise InvalidTransition(state=case.status.label, action="修改")
    _supervisor(session, supervisor_id, actor)
    if not _reaches(session, actor, supervisor_id, case.subject_id):
        raise InvalidInput(reason="请指定本区划的监管单位")
    if clear_by is not None:
        if clear_by < case.listed_on:
            raise InvalidInput(reason="清零期限不能早于列入日期")
        case.clear_by = clear_by
    supervisor_changed = supervisor_id != case.supervisor_id
    case.supervisor_id = supervisor_id
    case.updated_at = utcnow()
    audit.record(session, AuditAction.INTEGRITY_CASE_SAVED, actor=actor, subject_id=case.subject_id,
                 department_id=supervisor_id, target=f"integrity-case:{case.id}",
                 details={"clear_by": case.clear_by.isoformat(), "supervisor": supervisor_id})  # fmt: skip
    if supervisor_changed and supervisor_id is not None:
        subject = session.get(Subject, case.subject_id)
        assert subject is not None
        alerts.raise_alert(
            session, rule=LISTED_RULE, key=f"case:{case.id}:supervisor:{supervisor_id}", department_id=supervisor_id,
            actor=actor, title=f"请督促清零：{subject.name}的失信记录",
            body=f"贵单位被指定为{subject.name}失信记录（{case.summary}）的监管单位，须于 {case.clear_by.isoformat()} 前清零。",
            link=f"/admin/integrity#case-{case.id}",
        )  # fmt: skip
    return case


def _clear(session: Session, case: IntegrityCase, *, cleared_on: date, note: str | None, actor: Actor | str) -> None:
    case.status = CaseStatus.CLEARED
    case.cleared_on = cleared_on
    case.clearing_note = (note or "")[:500] or None
    case.updated_at = utcnow()
    audit.record(session, AuditAction.INTEGRITY_CASE_CLEARED, actor=actor, subject_id=case.subject_id,
                 target=f"integrity-case:{case.id}", reason=note)  # fmt: skip
    for alert_key in (f"case:{case.id}", f"case:{case.id}:supervisor:{case.supervisor_id}"):
        alerts.resolve_key(session, rule=LISTED_RULE, key=alert_key, actor=actor, note="失信记录已清零")


def clear_case(session: Session, case_id: int, *, cleared_on: date | None, note: str, actor: Actor,
               today: date) -> IntegrityCase:  # fmt: skip
    case = get_case(session, case_id, actor=actor)
    if case.status is not CaseStatus.OPEN:
        raise InvalidTransition(state=case.status.label, action="清零")
    note_text = _text(note, "清零情况说明", limit=500)
    cleared_on = cleared_on or today
    if cleared_on > today or cleared_on < case.listed_on:
        raise InvalidInput(reason="清零日期须在列入日期与今天之间")
    _clear(session, case, cleared_on=cleared_on, note=note_text, actor=actor)
    return case


@dataclass(frozen=True)
class BoardRow:
    case: IntegrityCase
    subject: Subject
    kind_label: str
    supervisor: str | None
    age_days: int
    bucket: str
    is_overdue: bool
    days_left: int


def board(session: Session, *, settings: Settings, today: date, status: CaseStatus | None = CaseStatus.OPEN,
          actor: Actor | None = None) -> list[BoardRow]:  # fmt: skip
    """The cases on the board: the actor's region's (see `region_codes`)."""
    cfg = config(settings)
    query = (select(IntegrityCase, Subject, Department.name)
             .join(Subject, Subject.id == IntegrityCase.subject_id)
             .outerjoin(Department, Department.id == IntegrityCase.supervisor_id)
             .order_by(IntegrityCase.clear_by, IntegrityCase.id))  # fmt: skip
    codes = region_codes(session, actor)
    if codes is not None:
        query = query.where(_in_regions(codes, IntegrityCase.supervisor_id, IntegrityCase.created_at, Subject.uscc))
    if status is not None:
        query = query.where(IntegrityCase.status == status)
    rows = []
    for case, subject, supervisor in session.execute(query):
        until = case.cleared_on or today
        age = age_in_days(case.listed_on, until)
        rows.append(BoardRow(case=case, subject=subject, kind_label=cfg.case_kinds.get(case.kind, case.kind),
                             supervisor=supervisor, age_days=age, bucket=cfg.bucket(age),
                             is_overdue=case.status is CaseStatus.OPEN and today > case.clear_by,
                             days_left=(case.clear_by - today).days))  # fmt: skip
    return rows


def ageing_summary(rows: list[BoardRow], cfg: IntegrityConfig) -> list[tuple[str, int]]:
    counts = dict.fromkeys(cfg.bucket_labels(), 0)
    for row in rows:
        counts[row.bucket] += 1
    return list(counts.items())


# --------------------------------------------------------------------------------- pre-listing notices


def add_notice(
    session: Session,
    *,
    code: str,
    court: str,
    case_no: str,
    obligation: str,
    notified_on: date | None,
    supervisor_id: int | None,
    actor: Actor,
    settings: Settings,
    protector: Protector,
    today: date,
) -> PrelistingNotice:
    """A court's notice that it will list a government body: the supervising body is warned now, before."""
    cfg = config(settings)
    subject = _government_subject(session, code, cfg=cfg, protector=protector)
    notified_on = notified_on or today
    if notified_on > today:
        raise InvalidInput(reason="告知日期不能晚于今天")
    supervisor = _supervisor(session, supervisor_id, actor)
    if not _reaches(session, actor, supervisor_id, subject.id):
        raise InvalidInput(reason="该政府机构不在本区划内，请指定本区划的监管单位")
    # the supervisor's region's working days count the notice period
    expected = load_calendar(session, region=supervisor.region if supervisor else None).add_workdays(
        notified_on, cfg.notice_workdays)  # fmt: skip
    notice = PrelistingNotice(
        subject_id=subject.id, court=_text(court, "法院名称", limit=100) or "",
        case_no=_text(case_no, "案号", limit=128) or "", obligation=_text(obligation, "须履行的义务") or "",
        notified_on=notified_on, listing_expected_on=expected, supervisor_id=supervisor_id,
        status=NoticeStatus.PENDING, created_by=actor.label[:100],
    )  # fmt: skip
    session.add(notice)
    session.flush()
    audit.record(session, AuditAction.INTEGRITY_NOTICE_SAVED, actor=actor, subject_id=subject.id,
                 department_id=supervisor_id, target=f"prelisting:{notice.id}",
                 details={"court": notice.court, "case_no": notice.case_no})  # fmt: skip
    alerts.raise_alert(
        session, rule=NOTICE_RULE, key=f"notice:{notice.id}", department_id=supervisor_id, actor=actor,
        title=f"法院拟将{subject.name}纳入失信被执行人名单",
        body=(f"{notice.court}（{notice.case_no}）告知：{subject.name}须履行“{notice.obligation}”，否则约于 "
              f"{expected.isoformat()} 纳入失信被执行人名单。请督促其在此之前履行。"),
        link=f"/admin/integrity#notice-{notice.id}",
    )  # fmt: skip
    return notice


def close_notice(session: Session, notice_id: int, *, outcome: str, actor: Actor, today: date) -> PrelistingNotice:
    notice = session.get(PrelistingNotice, notice_id)
    if notice is None or not _reaches(session, actor, notice.supervisor_id, notice.subject_id):
        raise NotFound(what="该告知")
    try:
        status = NoticeStatus(outcome)
    except ValueError:
        raise InvalidInput(reason="请选择办结结果") from None
    if status is NoticeStatus.PENDING:
        raise InvalidInput(reason="请选择办结结果")
    if notice.status is not NoticeStatus.PENDING:
        raise InvalidTransition(state=notice.status.label, action="办结")
    notice.status = status
    notice.closed_on = today
    audit.record(session, AuditAction.INTEGRITY_NOTICE_CLOSED, actor=actor, subject_id=notice.subject_id,
                 target=f"prelisting:{notice.id}", details={"outcome": status.value})  # fmt: skip
    alerts.resolve_key(session, rule=NOTICE_RULE, key=f"notice:{notice.id}", actor=actor, note=status.label)
    return notice


def notices(session: Session, *, pending_only: bool = True,
            actor: Actor | None = None) -> list[tuple[PrelistingNotice, Subject, str | None]]:  # fmt: skip
    query = (select(PrelistingNotice, Subject, Department.name)
             .join(Subject, Subject.id == PrelistingNotice.subject_id)
             .outerjoin(Department, Department.id == PrelistingNotice.supervisor_id)
             .order_by(PrelistingNotice.listing_expected_on))  # fmt: skip
    codes = region_codes(session, actor)
    if codes is not None:
        query = query.where(_in_regions(codes, PrelistingNotice.supervisor_id, PrelistingNotice.created_at, Subject.uscc))
    if pending_only:
        query = query.where(PrelistingNotice.status == NoticeStatus.PENDING)
    return [(n, s, d) for n, s, d in session.execute(query)]


# ------------------------------------------------------------------------------------------- indicators


def indicator_measures(session: Session, *, start: date, end: date, today: date, settings: Settings,
                       regions: frozenset[str] | None = None, **_: object) -> dict[int | None, dict[str, int]]:  # fmt: skip
    """The city's 政务诚信 measures for a month (a monitoring source; see monitoring/kpis.toml), or a county's
    (`regions`: the cases lying in those regions, see `region_codes`)."""
    cfg = config(settings)
    as_of = min(end, today)
    case_query = select(IntegrityCase)
    notice_query = select(func.count()).select_from(PrelistingNotice)
    if regions is not None:
        case_query = case_query.join(Subject, Subject.id == IntegrityCase.subject_id).where(
            _in_regions(regions, IntegrityCase.supervisor_id, IntegrityCase.created_at, Subject.uscc))
        notice_query = notice_query.join(Subject, Subject.id == PrelistingNotice.subject_id).where(
            _in_regions(regions, PrelistingNotice.supervisor_id, PrelistingNotice.created_at, Subject.uscc))
    cases = session.scalars(case_query).all()
    opened_by_end = [c for c in cases if c.listed_on <= as_of]
    open_at_end = [c for c in opened_by_end if c.cleared_on is None or c.cleared_on > as_of]
    due = [c for c in cases if start <= c.clear_by <= end]
    notices_pending = session.scalar(
        notice_query.where(
            PrelistingNotice.notified_on <= as_of,
            or_(PrelistingNotice.closed_on.is_(None), PrelistingNotice.closed_on > as_of),
        )
    )  # fmt: skip
    return {None: {
        "gov_cases_open": len(open_at_end),
        "gov_court_debtors_new": sum(1 for c in cases if c.kind == cfg.listing_case_kind and start <= c.listed_on <= end),
        "gov_cases_overdue": sum(1 for c in open_at_end if c.clear_by < as_of),
        "gov_cases_due": len(due),
        "gov_cases_cleared_on_time": sum(1 for c in due if c.cleared_on is not None and c.cleared_on <= c.clear_by),
        "gov_notices_pending": notices_pending or 0,
    }}  # fmt: skip


# ------------------------------------------------------------------------------ civil servants' files


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied("公务员诚信档案仅限公务员诚信档案管理员查阅")


def _reason(reason: str | None, cfg: IntegrityConfig) -> str:
    reason = (reason or "").strip()
    if len(reason) < cfg.reason_min_length:
        raise InvalidInput(reason=f"查询公务员诚信档案须说明查询事由（至少 {cfg.reason_min_length} 个字）")
    return reason[:450]


def add_civil_servant_record(
    session: Session,
    *,
    person_name: str,
    id_number: str,
    employer: str,
    position: str | None,
    category: str,
    item: str,
    description: str,
    occurred_on: date | None,
    source_document: str | None,
    actor: Actor,
    settings: Settings,
    protector: Protector,
    today: date,
) -> CivilServantRecord:
    _require(actor, Permission.CIVIL_SERVANTS_WRITE)
    cfg = config(settings)
    found = cfg.category(category)
    if found is None:
        raise InvalidInput(reason="请选择档案类别")
    if found.items and item not in found.items:
        raise InvalidInput(reason=f"“{item[:40]}”不是“{found.label}”下的事项")
    try:
        id_clean = validate_id_number(id_number)
    except CodeError as exc:
        raise InvalidInput(reason=exc.message) from None
    if occurred_on is None or occurred_on > today:
        raise InvalidInput(reason="请填写发生日期（不能晚于今天）")
    record = CivilServantRecord(
        person_name=_text(person_name, "姓名", limit=50) or "", id_hash=protector.lookup_hash(id_clean),
        id_sealed=protector.seal(id_clean), id_masked=mask_id_number(id_clean),
        employer=_text(employer, "工作单位", limit=200) or "", position=_text(position, "职务", required=False, limit=100),
        category=found.key, item=_text(item, "事项", limit=100) or "", description=_text(description, "具体情形") or "",
        occurred_on=occurred_on, source_document=_text(source_document, "依据文件", required=False, limit=200),
        created_by=actor.label[:100],
    )  # fmt: skip
    session.add(record)
    session.flush()
    audit.record(session, AuditAction.CIVIL_SERVANT_RECORDED, actor=actor, target=f"civil-servant:{record.id}",
                 details={"category": found.key})  # fmt: skip
    return record


def search_civil_servants(session: Session, *, query: str, reason: str | None, actor: Actor, settings: Settings,
                          protector: Protector) -> list[CivilServantRecord]:  # fmt: skip
    """A look-up by name or ID number; refused without a reason, and recorded with it either way it ends."""
    _require(actor, Permission.CIVIL_SERVANTS_READ)
    cfg = config(settings)
    reason_text = _reason(reason, cfg)
    query = (query or "").strip()[:50]
    if not query:
        raise InvalidInput(reason="请输入姓名或身份证号码")
    try:
        id_clean = validate_id_number(query)
    except CodeError:
        id_clean = None
    statement = select(CivilServantRecord).order_by(CivilServantRecord.occurred_on.desc()).limit(200)
    if id_clean:
        statement = statement.where(CivilServantRecord.id_hash == protector.lookup_hash(id_clean))
        shown = mask_id_number(id_clean)
    else:
        statement = statement.where(CivilServantRecord.person_name == query)
        shown = query
    found = list(session.scalars(statement))
    audit.record(session, AuditAction.CIVIL_SERVANT_LOOKED_UP, actor=actor, target="civil-servants:search",
                 reason=reason_text, details={"query": shown, "found": len(found)})  # fmt: skip
    return found


def view_civil_servant_record(session: Session, record_id: int, *, reason: str | None, actor: Actor,
                              settings: Settings) -> CivilServantRecord:  # fmt: skip
    _require(actor, Permission.CIVIL_SERVANTS_READ)
    reason_text = _reason(reason, config(settings))
    record = session.get(CivilServantRecord, record_id)
    if record is None:
        raise NotFound(what="该档案记录")
    audit.record(session, AuditAction.CIVIL_SERVANT_LOOKED_UP, actor=actor, target=f"civil-servant:{record.id}",
                 reason=reason_text)  # fmt: skip
    return record
