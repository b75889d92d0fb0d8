"""重错码: duplicate and wrong codes across the subject register, found, counted and resolved.

Four checks, run over the whole register (`xinyong monitoring quality-scan`, or the console's button):
- 一码多名: rows reported a code under a name that, normalised, is neither the registered name nor a recorded
  name change of that subject;
- 一名多码: one organisation's normalised name held by subjects with different codes (natural persons share
  names by nature and are left out);
- a legacy code (组织机构代码, 15-digit 税务登记号) that disagrees with the USCC it is embedded in;
- a USCC whose check characters fail: stored before the rule was enforced.
Each finding names the subjects and the departments whose rows carry them. The rate is subjects affected by
an unresolved finding over subjects with a code. The 信用办 resolves a finding by merging the subjects (same
kind only, through the subjects' and records' own services), by marking it distinct (a name change, two real
bodies), or by asking the departments to correct their data (a warning to their users); every step is audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.alerts import service as alerts
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import CodeError, mask_id_numbers, normalize_code, normalize_name, validate_uscc
from xinyong.db import utcnow
from xinyong.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinyong.monitoring.models import IssueKind, IssueStatus, QualityIssue
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

NOTE_MIN = 4
ASK_RULE = "quality-correction"


@dataclass(frozen=True)
class Finding:
    kind: IssueKind
    key: str
    subject_ids: tuple[int, ...]
    detail: dict[str, Any]


def _code_many_names(session: Session) -> list[Finding]:
    known = subjects_service.known_names(session)
    variants: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Record.subject_id, Record.subject_name, Subject.name, Subject.uscc)
        .join(Subject, Subject.id == Record.subject_id)
        .where(Subject.uscc.is_not(None), Record.subject_name != Subject.name)
        .distinct()
    )  # fmt: skip
    registered: dict[int, tuple[str, str]] = {}
    for subject_id, reported, name, uscc in rows:
        norm = normalize_name(reported)
        if norm == normalize_name(name) or norm in known.get(subject_id, ()):
            continue
        variants[subject_id].add(reported)
        registered[subject_id] = (name, uscc or "")  # codes are not None here (the query's filter)
    findings = []
    for subject_id, names in sorted(variants.items()):
        name, uscc = registered[subject_id]
        shown = sorted(names)
        findings.append(Finding(IssueKind.CODE_MANY_NAMES, f"code-many-names:{subject_id}", (subject_id,),
                                {"code": uscc, "registered_name": name, "reported_names": shown,
                                 "summary": f"代码 {uscc} 登记名称“{name}”，另报送为“{'”“'.join(shown)}”"}))  # fmt: skip
    return findings


def _name_many_codes(session: Session) -> list[Finding]:
    duplicated = (select(Subject.name_norm)
                  .where(Subject.uscc.is_not(None), Subject.kind != SubjectKind.PERSON, Subject.merged_into_id.is_(None))
                  .group_by(Subject.name_norm).having(func.count(Subject.id) > 1))  # fmt: skip
    groups: dict[str, list[Subject]] = defaultdict(list)
    for subject in session.scalars(select(Subject).where(Subject.name_norm.in_(duplicated), Subject.uscc.is_not(None),
                                                         Subject.merged_into_id.is_(None)).order_by(Subject.id)):  # fmt: skip
        groups[subject.name_norm].append(subject)
    findings = []
    for subjects in groups.values():
        ids = tuple(s.id for s in subjects)
        codes = [s.uscc for s in subjects]
        findings.append(Finding(IssueKind.NAME_MANY_CODES, "name-many-codes:" + ",".join(map(str, ids)), ids,
                                {"name": subjects[0].name, "codes": codes, "kinds": [s.kind.value for s in subjects],
                                 "summary": f"名称“{subjects[0].name}”对应 {len(ids)} 个代码：{'、'.join(codes)}"}))  # type: ignore[arg-type]  # fmt: skip
    return findings


def _legacy_mismatch(session: Session) -> list[Finding]:
    findings = []
    query = select(Subject).where(Subject.uscc.is_not(None), or_(Subject.org_code.is_not(None),
                                                                 Subject.tax_number.is_not(None)))  # fmt: skip
    for subject in session.scalars(query.execution_options(yield_per=2000)):
        uscc = subject.uscc or ""
        embedded = uscc[8:17]
        problems = []
        org = normalize_code(subject.org_code or "")
        if org and org != embedded:
            problems.append(f"组织机构代码 {subject.org_code} 与代码第9–17位 {embedded} 不符")
        tax = normalize_code(subject.tax_number or "")
        if len(tax) == 15 and tax[6:] != embedded:
            problems.append(f"税务登记号 {subject.tax_number} 第7–15位与代码第9–17位 {embedded} 不符")
        elif len(tax) == 18 and tax != uscc:
            problems.append(f"税务登记号 {subject.tax_number} 与统一社会信用代码不同")
        if problems:
            findings.append(Finding(IssueKind.LEGACY_MISMATCH, f"legacy-mismatch:{subject.id}", (subject.id,),
                                    {"code": uscc, "name": subject.name, "summary": f"{subject.name}：{'；'.join(problems)}"}))  # fmt: skip
    return findings


def _bad_check_digit(session: Session) -> list[Finding]:
    findings = []
    for subject_id, uscc, name in session.execute(select(Subject.id, Subject.uscc, Subject.name)
                                                  .where(Subject.uscc.is_not(None))
                                                  .execution_options(yield_per=5000)):  # fmt: skip
        try:
            validate_uscc(uscc)
        except CodeError as exc:
            findings.append(Finding(IssueKind.BAD_CHECK_DIGIT, f"bad-check-digit:{subject_id}", (subject_id,),
                                    {"code": uscc, "name": name, "problem": exc.code,
                                     "summary": f"{name}（{uscc}）：{exc.message}"}))  # fmt: skip
    return findings


def _departments(session: Session, subject_ids: set[int]) -> dict[int, set[int]]:
    """The departments whose records are about each subject."""
    found: dict[int, set[int]] = defaultdict(set)
    ids = sorted(subject_ids)
    for start in range(0, len(ids), 900):
        for subject_id, department_id in session.execute(
            select(Record.subject_id, Record.department_id).where(Record.subject_id.in_(ids[start : start + 900])).distinct()
        ):
            found[subject_id].add(department_id)
    return found


@dataclass
class ScanResult:
    found: int = 0
    new: int = 0
    gone: int = 0
    affected: int = 0
    with_codes: int = 0

    @property
    def rate(self) -> float | None:
        return self.affected / self.with_codes if self.with_codes else None


@dataclass(frozen=True)
class Found:
    """What the four checks found, and the departments whose records are about each subject they name."""

    findings: list[Finding]
    departments: dict[int, set[int]]


def scan(session: Session, *, actor: Actor | str) -> ScanResult:
    """Run the four checks; store new findings, mark those no longer found as gone. Findings a reviewer
    resolved stay resolved (their key is kept)."""
    return store(session, find(session), actor=actor)


def find(session: Session) -> Found:
    """The four checks: reads only, over the whole register (grouped scans of every subject and of the codes
    its rows reported), so that a caller can run them before it takes the write lock, which an import waits
    for meanwhile."""
    findings = _code_many_names(session) + _name_many_codes(session) + _legacy_mismatch(session) + _bad_check_digit(session)
    return Found(findings, _departments(session, {s for f in findings for s in f.subject_ids}))


def store(session: Session, found: Found, *, actor: Actor | str) -> ScanResult:
    """`find`'s findings against those stored: new ones opened, those no longer found marked gone. A finding
    resolved meanwhile stays resolved (they are read here, in the writer's transaction)."""
    findings, by_subject = found.findings, found.departments
    existing = {issue.key: issue for issue in session.scalars(select(QualityIssue))}
    result = ScanResult(found=len(findings))
    seen = set()
    for finding in findings:
        seen.add(finding.key)
        departments = sorted({d for s in finding.subject_ids for d in by_subject.get(s, ())})
        issue = existing.get(finding.key)
        if issue is None:
            session.add(QualityIssue(kind=finding.kind, key=finding.key, status=IssueStatus.OPEN,
                                     subject_ids=list(finding.subject_ids), department_ids=departments,
                                     affected=len(finding.subject_ids), detail=finding.detail))  # fmt: skip
            result.new += 1
        elif issue.status.is_unresolved:
            issue.subject_ids, issue.department_ids, issue.detail = list(finding.subject_ids), departments, finding.detail
            issue.affected = len(finding.subject_ids)
        elif issue.status is IssueStatus.GONE:  # it came back
            issue.status, issue.resolved_at, issue.resolved_by = IssueStatus.OPEN, None, None
            issue.subject_ids, issue.department_ids, issue.detail = list(finding.subject_ids), departments, finding.detail
            result.new += 1
    for key, issue in existing.items():
        if key not in seen and issue.status.is_unresolved:
            _close(issue, IssueStatus.GONE, actor=actor, note="重新检查时已不存在（数据已更正）")
            _resolve_asks(session, issue, actor=actor, note="数据已更正")
            result.gone += 1
    session.flush()
    summary = rate_summary(session)
    result.affected, result.with_codes = summary
    audit.record(session, AuditAction.QUALITY_SCANNED, actor=actor,
                 details={"found": result.found, "new": result.new, "gone": result.gone,
                          "affected": result.affected, "with_codes": result.with_codes})  # fmt: skip
    return result


def reaches(actor: Actor | None, issue: QualityIssue) -> bool:
    """A scoped user (a department's, a county's) sees a finding that involves at least one of its departments."""
    return actor is None or not actor.is_scoped or any(actor.can_reach(d) for d in issue.department_ids)


def _reaches_whole(actor: Actor, issue: QualityIssue) -> bool:
    return not actor.is_scoped or all(actor.can_reach(d) for d in issue.department_ids)


def rate_summary(session: Session, actor: Actor | None = None) -> tuple[int, int]:
    """(subjects affected by an unresolved finding, subjects with a code): the platform's, or over the subjects
    the actor's departments reported on (a county's)."""
    affected: set[int] = set()
    for issue in session.scalars(select(QualityIssue).where(QualityIssue.status.in_((IssueStatus.OPEN, IssueStatus.ASKED)))):
        if reaches(actor, issue):
            affected.update(issue.subject_ids)
    query = select(func.count()).select_from(Subject).where(Subject.uscc.is_not(None))
    clause = actor.reach(Record.department_id, Record.created_at) if actor is not None else None
    if clause is not None:
        query = query.where(Subject.id.in_(select(Record.subject_id).where(clause)))
    with_codes = session.scalar(query) or 0
    return len(affected), with_codes


def list_issues(session: Session, *, status: str | None = None, limit: int = 500,
                actor: Actor | None = None) -> list[QualityIssue]:  # fmt: skip
    """The findings, newest first: those involving the actor's departments for a scoped actor."""
    scoped = actor is not None and actor.is_scoped
    query = select(QualityIssue).order_by(QualityIssue.id.desc())
    if not scoped:
        query = query.limit(limit)
    if status == "unresolved":
        query = query.where(QualityIssue.status.in_((IssueStatus.OPEN, IssueStatus.ASKED)))
    elif status:
        try:
            query = query.where(QualityIssue.status == IssueStatus(status))
        except ValueError:
            raise InvalidInput(reason=f"未知的状态“{status[:20]}”") from None
    if scoped:
        return [issue for issue in session.scalars(query) if reaches(actor, issue)][:limit]
    return list(session.scalars(query))


def get_issue(session: Session, issue_id: int, *, actor: Actor | None = None) -> QualityIssue:
    """A finding by id; one that involves none of a scoped actor's departments is not found."""
    issue = session.get(QualityIssue, issue_id)
    if issue is None or not reaches(actor, issue):
        raise NotFound(what="该重错码问题")
    return issue


def subjects_of(session: Session, issue: QualityIssue) -> list[Subject]:
    return list(session.scalars(select(Subject).where(Subject.id.in_(issue.subject_ids)).order_by(Subject.id)))


def _note(note: str | None) -> str:
    note = mask_id_numbers((note or "").strip())  # shown to staff and sent to departments
    if len(note) < NOTE_MIN:
        raise InvalidInput(reason=f"请说明处理理由（至少 {NOTE_MIN} 个字）")
    return note[:500]


def _close(issue: QualityIssue, status: IssueStatus, *, actor: Actor | str, note: str) -> None:
    issue.status = status
    issue.resolved_at = utcnow()
    issue.resolved_by = (actor.label if isinstance(actor, Actor) else actor)[:100]
    issue.resolution_note = note


def _resolve_asks(session: Session, issue: QualityIssue, *, actor: Actor | str, note: str) -> None:
    for department_id in issue.department_ids:
        alerts.resolve_key(session, rule=ASK_RULE, key=f"issue:{issue.id}:department:{department_id}", actor=actor,
                           note=note)  # fmt: skip


def _open_issue(session: Session, issue_id: int, action: str, actor: Actor) -> QualityIssue:
    """An unresolved finding the actor may act on: a county's 信用办 acts on its county's findings only (one that
    involves another county's departments is the city's to resolve)."""
    issue = get_issue(session, issue_id, actor=actor)
    if not _reaches_whole(actor, issue):
        raise PermissionDenied("该问题涉及其他区划的部门，请由市级信用办处理")
    if not issue.status.is_unresolved:
        raise InvalidTransition(state=issue.status.label, action=action)
    return issue


def merge(session: Session, issue_id: int, *, keep_id: int, actor: Actor, note: str, protector: Protector) -> QualityIssue:
    """Merge every other subject of the finding into `keep_id`: their records move to it (records service), the
    merged subjects keep their rows for history without their codes (subjects service). Subjects of
    different kinds are never merged."""
    issue = _open_issue(session, issue_id, "合并", actor)
    note_text = _note(note)
    if keep_id not in issue.subject_ids:
        raise InvalidInput(reason="请选择该问题涉及的主体之一作为保留主体")
    others = [s for s in issue.subject_ids if s != keep_id]
    if not others:
        raise InvalidInput(reason="该问题只涉及一个主体，无可合并的主体；请选择“确认不是重错码”或“请部门更正”")
    pairs = [subjects_service.check_mergeable(session, keep_id=keep_id, merge_id=other) for other in others]
    moved = 0
    for keep, merged in pairs:
        moved += records_service.move_subject_records(session, from_subject_id=merged.id, to_subject_id=keep.id,
                                                      protector=protector)  # fmt: skip
        subjects_service.retire_merged(session, keep=keep, merge=merged, actor=actor, reason=note_text)
    _close(issue, IssueStatus.MERGED, actor=actor, note=note_text)
    audit.record(session, AuditAction.QUALITY_MERGED, actor=actor, subject_id=keep_id, target=f"quality-issue:{issue.id}",
                 reason=note_text, details={"merged": others, "records_moved": moved})  # fmt: skip
    _resolve_asks(session, issue, actor=actor, note="已合并")
    return issue


def mark_distinct(session: Session, issue_id: int, *, actor: Actor, note: str) -> QualityIssue:
    """Checked and not a duplicate. For 一码多名 the reported names are recorded as the subject's names
    (更名), so that the next check does not find them again."""
    issue = _open_issue(session, issue_id, "确认不是重错码", actor)
    note_text = _note(note)
    if issue.kind is IssueKind.CODE_MANY_NAMES:
        for name in issue.detail.get("reported_names", []):
            subjects_service.record_name_change(session, issue.subject_ids[0], name=name, note=note_text, actor=actor)
    _close(issue, IssueStatus.DISTINCT, actor=actor, note=note_text)
    audit.record(session, AuditAction.QUALITY_DISTINCT, actor=actor, target=f"quality-issue:{issue.id}",
                 reason=note_text, details={"kind": issue.kind.value})  # fmt: skip
    _resolve_asks(session, issue, actor=actor, note="已确认不是重错码")
    return issue


def ask_departments(session: Session, issue_id: int, *, actor: Actor, note: str) -> QualityIssue:
    """Ask the departments whose rows caused the finding to correct them: a warning to each department's users.
    The finding stays unresolved until the data is corrected (the next check no longer finds it)."""
    issue = _open_issue(session, issue_id, "请部门更正", actor)
    note_text = _note(note)
    if not issue.department_ids:
        raise InvalidInput(reason="没有报送过这些主体数据的部门，无法请部门更正")
    issue.status = IssueStatus.ASKED
    issue.resolution_note = note_text
    for department_id in issue.department_ids:
        alerts.raise_alert(session, rule=ASK_RULE, key=f"issue:{issue.id}:department:{department_id}",
                           department_id=department_id, actor=actor,
                           title=f"请更正重错码：{issue.kind.label}",
                           body=f"{issue.detail.get('summary', '')}。信用办意见：{note_text}",
                           link=f"/admin/monitoring/quality/{issue.id}")  # fmt: skip
    audit.record(session, AuditAction.QUALITY_ASKED, actor=actor, target=f"quality-issue:{issue.id}", reason=note_text,
                 details={"departments": issue.department_ids})  # fmt: skip
    return issue
