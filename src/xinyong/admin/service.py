"""Console use-cases that cross domains, each scoped to what the actor may reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.auth.models import User
from xinyong.auth.service import ensure, ensure_department
from xinyong.codes import mask_id_numbers, normalize_name
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Batch, Record, RecordStatus
from xinyong.regions import service as regions_service
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject

MIN_REASON_LENGTH = 4


# ------------------------------------------------------------------------------------- departments


def department_for(session: Session, actor: Actor, requested_id: int | None) -> Department | None:
    """The department a page is about: the actor's own when bound, else the one asked for (or all the actor
    reaches); a department outside a regional actor's region does not exist for it."""
    department_id = actor.department_id if actor.is_department_bound else requested_id
    if department_id is None:
        return None
    department = session.get(Department, department_id)
    if department is None or not actor.can_reach(department.id):
        raise NotFound(what="该部门")
    return department


def acting_department(session: Session, actor: Actor, requested_id: int | None) -> Department:
    """The department a write is made for; bound actors can only write for their own."""
    if actor.is_department_bound:
        if requested_id is not None and requested_id != actor.department_id:
            raise PermissionDenied("只能为本部门报送或撤销")
        requested_id = actor.department_id
    if requested_id is None:
        raise InvalidInput(reason="请选择部门")
    department = session.get(Department, requested_id)
    if department is None or not actor.can_reach(department.id):
        raise NotFound(what="该部门")
    if not department.is_active:
        raise PermissionDenied("该部门已停用")
    return department


# ---------------------------------------------------------------------------------------- dashboard


class _Rates:
    """The rates shown beside rows reported: refused of all rows, late of the rows accepted."""

    rows: int
    rejected: int
    late: int

    @property
    def accepted(self) -> int:
        return self.rows - self.rejected

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.rows if self.rows else None

    @property
    def lateness_rate(self) -> float | None:
        return self.late / self.accepted if self.accepted else None


@dataclass
class Figures(_Rates):
    """Rows reported over the dashboard's days, and how many were refused or reported late."""

    rows: int
    rejected: int
    late: int


@dataclass
class RegionFigures:
    """One line of the dashboard's 分区划 table: a county (or the city's own departments) and its figures."""

    code: str
    name: str
    figures: Figures


@dataclass
class Dashboard(_Rates):
    department: Department | None
    batches: list[Batch]
    rows: int
    rejected: int
    late: int
    days: int
    regions: list[RegionFigures] = field(default_factory=list)  # per county, for a city-level user only
    total_name: str = regions_service.CITY_TOTAL


def _figures(session: Session, since: datetime, condition: ColumnElement[bool] | None) -> Figures:
    query = select(func.coalesce(func.sum(Batch.rows_read), 0), func.coalesce(func.sum(Batch.rejected), 0),
                   func.coalesce(func.sum(Batch.late), 0)).where(Batch.started_at >= since)  # fmt: skip
    if condition is not None:
        query = query.where(condition)
    rows, rejected, late = session.execute(query).one()
    return Figures(int(rows), int(rejected), int(late))


def _region_figures(session: Session, actor: Actor, since: datetime) -> tuple[list[RegionFigures], str]:
    """The dashboard's figures per region directly under the actor's (the lines of the monitoring page's
    分区划汇总, `RegionTree.breakdown`), and the total's name. Each line counts a batch where its department's
    data was made when the batch started (as a county's own dashboard does), so the lines add up to the total.
    None for a county (nothing is under it) or a department's account: their figures are their own."""
    current = regions_service.tree(session)
    root = current.root
    anchor = actor.region or (root.code if root is not None else None)
    if actor.is_department_bound or not current.is_multi or anchor is None or current.get(anchor) is None:
        return [], ""
    lines = current.breakdown(anchor)
    if all(line.is_own for line in lines):
        return [], ""
    out = []
    for line in lines:
        scope = departments_service.scope_of(session, line.codes)
        if line.is_own and not scope.always and not scope.periods:
            continue  # the city has no departments of its own
        out.append(RegionFigures(line.code, line.name,
                                 _figures(session, since, scope.clause(Batch.department_id, Batch.started_at))))
    return out, current.total_name(anchor)


def dashboard(session: Session, actor: Actor, *, department_id: int | None = None, days: int = 30) -> Dashboard:
    ensure(actor, Permission.DASHBOARD_READ)
    department = department_for(session, actor, department_id)
    since = utcnow() - timedelta(days=days)
    condition: ColumnElement[bool] | None
    if department is not None:
        condition = Batch.department_id == department.id
    else:
        condition = actor.reach(Batch.department_id, Batch.started_at)  # a county's figures are its own
    total = _figures(session, since, condition)
    regions, total_name = _region_figures(session, actor, since) if department is None else ([], "")
    batches = records_service.list_batches(session, department=department, limit=10,
                                           within=actor.reach(Batch.department_id, Batch.started_at))  # fmt: skip
    return Dashboard(department, batches, total.rows, total.rejected, total.late, days, regions,
                     total_name)


# ------------------------------------------------------------------------------------------ batches


def list_batches(session: Session, actor: Actor, *, department_id: int | None = None, limit: int = 100) -> list[Batch]:
    ensure(actor, Permission.BATCHES_READ)
    return records_service.list_batches(session, department=department_for(session, actor, department_id),
                                        limit=limit, within=actor.reach(Batch.department_id, Batch.started_at))  # fmt: skip


def get_batch(session: Session, actor: Actor, batch_id: int) -> Batch:
    ensure(actor, Permission.BATCHES_READ)
    batch = records_service.get_batch(session, batch_id)
    if not actor.can_reach(batch.department_id, batch.started_at):
        raise NotFound(what=f"导入批次 {batch_id}")  # another department's batch does not exist for this actor
    return batch


# ------------------------------------------------------------------------------------------- uploads

ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls", ".ods")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_upload(filename: str, head: bytes) -> str:
    """CSV (and Excel/WPS "Unicode text" .txt), XLSX, XLS and ODS, and the content must look like what the name
    says (the reader decides by content and refuses the rest with advice). Returns the suffix."""
    lower = filename.lower()
    suffix = next((s for s in ALLOWED_SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        raise InvalidInput(reason="只接受 CSV 或 XLSX 文件（也接受 XLS、ODS 和 Excel“Unicode 文本”）")
    if not head:
        raise InvalidInput(reason="文件为空")
    # A password-protected .xlsx is an OLE2 container, as is an .xls renamed .xlsx: the reader tells them apart.
    packages = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") if suffix == ".xlsx" else (b"PK\x03\x04",)
    if suffix in (".xlsx", ".ods") and not head.startswith(packages):
        raise InvalidInput(reason=f"文件内容不是 {suffix[1:].upper()} 格式")
    if suffix in (".csv", ".txt") and not head.startswith(_UTF16_BOMS) and (
        b"\x00" in head[:4096] or head.startswith((b"PK\x03\x04", b"%PDF", b"\x7fELF", b"MZ"))
    ):
        raise InvalidInput(reason="文件内容不是 CSV 文本")
    return suffix


# ------------------------------------------------------------------------------------------- records


def find_records(
    session: Session, actor: Actor, *, doc_no: str | None = None, subject_id: int | None = None, limit: int = 100
) -> list[Record]:
    ensure(actor, Permission.RECORDS_READ)
    query = select(Record).order_by(Record.decision_date.desc(), Record.id.desc()).limit(limit)
    if (clause := actor.reach(Record.department_id, Record.created_at)) is not None:
        query = query.where(clause)
    if doc_no:
        # Stored 文书号 have their ID numbers masked; so has the fragment searched for.
        query = query.where(Record.doc_no.contains(mask_id_numbers(doc_no.strip())[:128], autoescape=True))
    if subject_id is not None:
        query = query.where(Record.subject_id == subject_id)
    if not doc_no and subject_id is None:
        return []
    return list(session.scalars(query))


def revoke_record(session: Session, actor: Actor, *, record_id: int, reason: str) -> Record:
    """撤销 from the console: the actor's permission and department scope, then the records service
    (which writes the audit entry)."""
    ensure(actor, Permission.RECORDS_WRITE)
    record = session.get(Record, record_id)
    if record is None or not actor.can_reach(record.department_id, record.created_at):
        raise NotFound(what="该记录")
    department = session.get(Department, record.department_id)
    assert department is not None
    return records_service.revoke_record(session, department=department, record_type=record.record_type,
                                         doc_no=record.doc_no, reason=reason, actor=actor.label)  # fmt: skip


# ------------------------------------------------------------------------------------------ subjects


def search_subjects(session: Session, actor: Actor, text: str, protector: Protector, *, limit: int = 50) -> list[Subject]:
    """By code (USCC, legacy code, ID number: hashed for the look-up) or by part of the name.
    Names and codes of subjects are public; restricted fields are not shown here."""
    ensure(actor, Permission.SUBJECTS_READ)
    text = text.strip()[:100]
    if not text:
        return []
    found = subjects_service.find_by_code(session, text, protector)
    if found is not None:
        visible = records_service.visible_subjects(session, actor)
        if visible is not None and not session.scalar(select(exists().where(Subject.id == found.id, visible))):
            return []
        return [found]
    needle = normalize_name(mask_id_numbers(text))  # stored names have their ID numbers masked
    if len(needle) < 2:
        return []
    query = select(Subject).where(Subject.name_norm.contains(needle, autoescape=True)).order_by(Subject.name).limit(limit)
    if (visible := records_service.visible_subjects(session, actor)) is not None:
        query = query.where(visible)
    return list(session.scalars(query))


def get_subject(session: Session, actor: Actor, subject_id: int) -> Subject:
    ensure(actor, Permission.SUBJECTS_READ)
    query = select(Subject).where(Subject.id == subject_id)
    if (visible := records_service.visible_subjects(session, actor)) is not None:
        query = query.where(visible)
    subject = session.scalar(query)
    if subject is None:
        raise NotFound(what="该信用主体")
    return subject


def reveal_id_number(
    session: Session, actor: Actor, *, subject_id: int, reason: str, protector: Protector
) -> tuple[Subject, str | None]:
    """The full ID number of a subject (查询留痕): needs the reveal permission, a reason, and — for a
    department's account — a record of that department about the subject. Audited in this transaction."""
    ensure(actor, Permission.SUBJECTS_REVEAL)
    subject = get_subject(session, actor, subject_id)
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise InvalidInput(reason=f"查看受限信息须说明理由（至少 {MIN_REASON_LENGTH} 个字）")
    if (clause := actor.reach(Record.department_id, Record.created_at)) is not None:
        own = session.scalar(select(exists().where(Record.subject_id == subject.id, clause)))
        if not own:
            raise PermissionDenied("只能查看本部门有记录的主体的受限信息" if actor.is_department_bound
                                   else "只能查看本行政区划内有记录的主体的受限信息")  # fmt: skip
    if actor.is_department_bound:
        ensure_department(actor, actor.department_id)
    audit.record(session, AuditAction.SUBJECT_REVEALED, actor=actor, department_id=actor.department_id,
                 subject_id=subject.id, target=f"subject:{subject.id}", reason=reason,
                 details={"fields": ["id_number"]})  # fmt: skip
    return subject, subjects_service.reveal_id_number(subject, protector)


def active_record_count(session: Session, subject_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Record).where(
        Record.subject_id == subject_id, Record.status == RecordStatus.ACTIVE)) or 0  # fmt: skip


# -------------------------------------------------------------------------------------------- audit


def audit_scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The audit entries a county's reader sees (None: all, the city's): those about a department of its region
    or made by one (by the time of the entry, for departments that moved), and — among the entries of no
    department (accounts, regions, look-ups by platform-level accounts) — those made by its region's own
    platform-level accounts. The other entries of no department are the city's."""
    about = actor.reach(AuditEntry.department_id, AuditEntry.created_at)
    if about is None:
        return None
    by = actor.reach(AuditEntry.actor_department_id, AuditEntry.created_at)
    parts = [about, by] if by is not None else [about]
    codes = regions_service.reachable(session, actor)
    if codes:
        labels = select(literal("user:") + User.username).where(User.region_code.in_(sorted(codes)))
        parts.append(and_(AuditEntry.department_id.is_(None), AuditEntry.actor_department_id.is_(None),
                          AuditEntry.actor.in_(labels.scalar_subquery())))  # fmt: skip
    return or_(*parts)
