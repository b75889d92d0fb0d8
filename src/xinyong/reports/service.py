"""Use-cases of credit reports: issue one (to the public, to a subject's account, to the platform and to a
department inside a credit check), register it, verify a number or a file, list what was issued.

Issuing is two steps, so that the slow part holds no write lock: `prepare_*` reads and renders (nothing is
written), `register` writes the registry row and the audit entry in the caller's transaction. Nothing here
commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure
from xinyong.checks import service as checks_service
from xinyong.clock import CHINA
from xinyong.codes import CodeError, normalize_code, validate_id_number, validate_uscc
from xinyong.config import Settings
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.portal import service as portal_service
from xinyong.protect import Protector
from xinyong.reports import content, rules
from xinyong.reports.content import Request
from xinyong.reports.models import IssuedReport, ReportKind
from xinyong.reports.rules import Span
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

FORMATS = frozenset({"pdf", "json"})
PLATFORM_KINDS = ("public", "own", "special")  # the command line: the 信用办 at its counter
DEPARTMENT_KINDS = ("public", "special")  # a department inside a credit check
ACCOUNT_KINDS = ("public", "own", "special")
LOCAL_URL = "http://127.0.0.1:8000"
_NUMBER_IN_TEXT = re.compile(r"XY\d{8}[0-9A-Z]{10}")


class MalformedCode(InvalidInput):
    code = "report-code-malformed"


@dataclass
class Issued:
    """A report made and signed, not yet registered."""

    number: str
    kind: ReportKind
    subject: Subject
    content: dict[str, Any]
    content_sha256: str
    json: bytes
    pdf: bytes | None
    pdf_sha256: str | None
    span: Span | None
    domains: list[str]

    def filename(self, fmt: str) -> str:
        return f"{self.number}.{fmt}"


def verify_url(settings: Settings, base_url: str | None, number: str) -> str:
    root = (settings.reports_public_url or base_url or LOCAL_URL).rstrip("/")
    return f"{root}/reports/verify/{number}"


def _issue(session: Session, subject: Subject, request: Request, *, settings: Settings, protector: Protector,
           today: date, now: datetime, base_url: str | None, formats: Iterable[str]) -> Issued:  # fmt: skip
    formats = set(formats)
    if not formats or not formats <= FORMATS:
        raise InvalidInput(reason="报告格式只能是 pdf 或 json")
    number = rules.new_number(today)
    body = content.build(session, subject, request, number=number, now=now, today=today, settings=settings,
                         protector=protector, verify_url=verify_url(settings, base_url, number))  # fmt: skip
    digest = rules.sha256(rules.canonical_json(body))
    # The PDF and signing engines load only where a report is made or read (every command would pay for them).
    from xinyong.reports import pdf, signing

    material = signing.material(settings)
    signed_pdf = None
    if "pdf" in formats:
        signed_pdf = signing.sign_pdf(pdf.render(body, content_sha256=digest), material,
                                      reason=f"{body['title']}，报告编号 {number}", location=settings.reports_issuer)  # fmt: skip
    return Issued(number=number, kind=request.kind, subject=subject, content=body, content_sha256=digest,
                  json=signing.sign_json(body, material), pdf=signed_pdf,
                  pdf_sha256=rules.sha256(signed_pdf) if signed_pdf is not None else None, span=request.span,
                  domains=[d.label for d in request.domains])  # fmt: skip


def _request(session: Session, kind: str, allowed: tuple[str, ...], *, start: str | date | None,
             end: str | date | None, domains: Iterable[str], settings: Settings, today: date,
             account: SubjectAccount | None = None) -> Request:  # fmt: skip
    report_kind = ReportKind(rules.parse_kind(kind, allowed))
    if report_kind is not ReportKind.SPECIAL:
        return Request(report_kind, account=account)
    first = start if isinstance(start, date) or start is None else rules.parse_day(start, title="起始日期")
    last = end if isinstance(end, date) or end is None else rules.parse_day(end, title="截止日期")
    span = rules.special_span(first, last, today=today)
    chosen = content.resolve_domains(session, domains, settings=settings)
    return Request(report_kind, span=span, domains=tuple(chosen), account=account)


def subject_by_code(session: Session, code: str, *, protector: Protector) -> Subject:
    """A subject by USCC, ID number or legacy code; a text that cannot be any of them is refused as such."""
    text = normalize_code(code or "")[:40]
    if len(text) < 8 or not text.isascii() or not text.isalnum():
        raise MalformedCode(reason=f"“{(code or '').strip()[:20]}”不是有效的统一社会信用代码或其他登记代码")
    if len(text) == 18:
        try:
            validate_uscc(text)
        except CodeError as exc:
            try:
                validate_id_number(text)
            except CodeError:
                raise MalformedCode(reason=f"统一社会信用代码有误：{exc.message}") from None
    subject = subjects_service.find_by_code(session, text, protector)
    if subject is None:
        raise NotFound(what="该代码的信用主体")
    return subject


# ------------------------------------------------------------------------------------------ who may ask


def prepare_public(session: Session, ref: str, *, account: SubjectAccount | None, settings: Settings,
                   protector: Protector, today: date, now: datetime, base_url: str | None,
                   formats: Iterable[str] = ("pdf",)) -> Issued:  # fmt: skip
    """The public report of a subject as the portal shows it (下载信用报告), for anyone; a natural person's only
    for the person signed in to its account."""
    subject = portal_service.resolve_subject(session, ref, protector=protector)
    if subject.kind is SubjectKind.PERSON and not _acts_for(account, subject):
        raise rules.SubjectRefused()
    return _issue(session, subject, Request(ReportKind.PUBLIC), settings=settings, protector=protector, today=today,
                  now=now, base_url=base_url, formats=formats)  # fmt: skip


def _acts_for(account: SubjectAccount | None, subject: Subject) -> bool:
    # The accounts service's guard: the signed-in account of the subject, its identity proven. Restricted content
    # (own and special kinds) goes through its own-records view, which applies the same guard.
    return accounts_service.acts_for(account, subject.id)


def prepare_for_account(session: Session, account: SubjectAccount, *, kind: str, start: str | None = None,
                        end: str | None = None, domains: Iterable[str] = (), settings: Settings,
                        protector: Protector, today: date, now: datetime, base_url: str | None,
                        formats: Iterable[str] = ("pdf",)) -> Issued:  # fmt: skip
    """Any kind of report of the account's own subject (the account page)."""
    subject = accounts_service.subject_of(session, account)
    request = _request(session, kind, ACCOUNT_KINDS, start=start, end=end, domains=domains, settings=settings,
                       today=today, account=account)  # fmt: skip
    return _issue(session, subject, request, settings=settings, protector=protector, today=today, now=now,
                  base_url=base_url, formats=formats)  # fmt: skip


def prepare_for_platform(session: Session, code: str, *, kind: str, start: str | date | None = None,
                         end: str | date | None = None, domains: Iterable[str] = (), settings: Settings,
                         protector: Protector, today: date, now: datetime, base_url: str | None,
                         formats: Iterable[str] = ("pdf", "json"), allowed: tuple[str, ...] = PLATFORM_KINDS
                         ) -> Issued:  # fmt: skip
    """A report asked by the platform itself (the command line) or a department: never a natural person's."""
    subject = subject_by_code(session, code, protector=protector)
    if subject.kind is SubjectKind.PERSON:
        raise rules.SubjectRefused()
    request = _request(session, kind, allowed, start=start, end=end, domains=domains, settings=settings, today=today)
    return _issue(session, subject, request, settings=settings, protector=protector, today=today, now=now,
                  base_url=base_url, formats=formats)  # fmt: skip


@dataclass
class InCheck:
    issued: Issued
    check: dict[str, Any]  # the credit check's document, the report named in it
    rows: list[dict[str, Any]]  # what checks_service.store_checks records


def prepare_in_check(session: Session, *, code: str, matter: str, actor: Actor, kind: str,
                     start: str | None = None, end: str | None = None, domains: Iterable[str] = (),
                     settings: Settings, protector: Protector, today: date, now: datetime, base_url: str | None,
                     formats: Iterable[str] = ("pdf",)) -> InCheck:  # fmt: skip
    """A department asks for a report inside a credit check (逢办必查): the check is run and recorded as every
    check is, and names the report it returned."""
    if not (actor.can(Permission.API_REPORTS_WRITE) or actor.can(Permission.CHECKS_WRITE)):
        raise PermissionDenied("无权在信用核查中申请信用报告")
    matter = checks_service.check_matter(matter, settings)  # the check's question first, as a check asks it
    issued = prepare_for_platform(session, code, kind=kind, start=start, end=end, domains=domains,
                                  settings=settings, protector=protector, today=today, now=now, base_url=base_url,
                                  formats=formats, allowed=DEPARTMENT_KINDS)  # fmt: skip
    documents, rows = checks_service.prepare_checks(session, [checks_service.CheckItem(code=code)], matter=matter,
                                                    actor=actor, settings=settings, protector=protector,
                                                    today=today, detail=False)  # fmt: skip
    documents[0]["report"] = {"number": issued.number, "kind": issued.kind.value,
                              "content_sha256": issued.content_sha256, "pdf_sha256": issued.pdf_sha256}  # fmt: skip
    return InCheck(issued, documents[0], rows)


def register_in_check(session: Session, prepared: InCheck, *, actor: Actor) -> IssuedReport:
    checks_service.store_checks(session, prepared.rows)
    return register(session, prepared.issued, actor=actor, department_id=actor.department_id,
                    check_number=prepared.check["number"])  # fmt: skip


# -------------------------------------------------------------------------------------------- registry


def register(session: Session, issued: Issued, *, actor: Actor | str | None, department_id: int | None = None,
             check_number: str | None = None) -> IssuedReport:  # fmt: skip
    """The registry row (what the verification page shows) and, for anyone but the anonymous public, the
    audit entry. An anonymous portal download is recorded by its registry row alone."""
    subject = issued.subject
    head = issued.content["subject"]
    row = IssuedReport(
        number=issued.number, kind=issued.kind, subject_id=subject.id, subject_name=content.masked_name(subject),
        subject_code=head["code"] or None, span_from=issued.span.start if issued.span else None,
        span_to=issued.span.end if issued.span else None, domains=issued.domains,
        generated_at=datetime.fromisoformat(issued.content["generated_at"]),
        requested_by=(actor.label if isinstance(actor, Actor) else actor or "public")[:100],
        department_id=department_id, check_number=check_number, content_sha256=issued.content_sha256,
        pdf_sha256=issued.pdf_sha256,
    )  # fmt: skip
    session.add(row)
    if actor is not None:
        audit.record(session, AuditAction.REPORT_ISSUED, actor=actor, department_id=department_id,
                     subject_id=subject.id, target=f"report:{issued.number}",
                     details={"kind": issued.kind.value, "check": check_number, "domains": issued.domains,
                              "span": issued.content["span"], "content_sha256": issued.content_sha256})  # fmt: skip
    return row


def account_label(account: SubjectAccount) -> str:
    return f"subject-account:{account.id}"


def find(session: Session, number: str) -> IssuedReport:
    """The registered report of a number: MalformedNumber, AlteredNumber (its check character disagrees) or
    UnknownNumber when there is none."""
    normal = rules.parse_number(number)
    row = session.scalar(select(IssuedReport).where(IssuedReport.number == normal))
    if row is None:
        raise rules.UnknownNumber(number=normal)
    return row


@dataclass
class Verification:
    """What the verification page tells someone who holds a number: never the content."""

    number: str
    kind_label: str
    subject_name: str
    subject_code: str | None
    span_text: str
    generated_at: datetime
    content_sha256: str
    pdf_sha256: str | None
    issuer: str


def verify_number(session: Session, number: str, *, settings: Settings) -> Verification:
    row = find(session, number)
    span = (Span(row.span_from, row.span_to).text if row.span_from and row.span_to
            else f"截至 {row.generated_at.astimezone(CHINA).date().isoformat()}")  # fmt: skip
    return Verification(number=row.number, kind_label=row.kind.label, subject_name=row.subject_name,
                        subject_code=row.subject_code, span_text=span, generated_at=row.generated_at,
                        content_sha256=row.content_sha256, pdf_sha256=row.pdf_sha256, issuer=settings.reports_issuer)  # fmt: skip


@dataclass
class FileCheck:
    is_genuine: bool
    problems: list[str]
    form: str  # "pdf" | "json"
    number: str | None


def verify_file(session: Session, data: bytes, *, settings: Settings) -> FileCheck:
    """A copy of a report checked twice: its signature (offline), and its digest against the registry (online).
    One byte changed anywhere fails both."""
    from xinyong.reports import signing

    material = signing.material(settings)
    form = "pdf" if data[:5] == b"%PDF-" else "json"
    if form == "pdf":
        check = signing.verify_pdf(data, material)
        found = _NUMBER_IN_TEXT.search(check.reason or "")
        number = found.group(0) if found else None
    else:
        check = signing.verify_json(data, material)
        number = str(check.report.get("number")) if check.report else None
    problems = list(check.problems)
    if number is None:
        problems.append("文件中没有可核验的报告编号")
        return FileCheck(False, problems, form, None)
    try:
        row = find(session, number)
    except (rules.MalformedNumber, NotFound) as exc:
        problems.append(exc.message)
        return FileCheck(False, problems, form, number)
    if form == "pdf" and rules.sha256(data) != row.pdf_sha256:
        problems.append("文件摘要与平台登记的不一致：文件被改动过，或不是平台出具的那一份")
    if form == "json" and check.report is not None and \
            rules.sha256(rules.canonical_json(check.report)) != row.content_sha256:
        problems.append("报告内容摘要与平台登记的不一致")  # fmt: skip
    return FileCheck(not problems, problems, form, number)


def issued_reports(session: Session, actor: Actor, *, limit: int = 200) -> list[IssuedReport]:
    """The registry, newest first; a department's users see what their department asked for."""
    ensure(actor, Permission.REPORTS_READ)
    query = select(IssuedReport).order_by(IssuedReport.id.desc()).limit(limit)
    clause = actor.reach(IssuedReport.department_id, IssuedReport.generated_at)
    if clause is not None and not actor.is_department_bound:
        # A county's registry: its departments' reports, and those its own account asked for; reports of no
        # department (the portal's, other platform-level accounts') are the city's.
        clause = or_(clause, and_(IssuedReport.department_id.is_(None), IssuedReport.requested_by == actor.label[:100]))
    if clause is not None:
        query = query.where(clause)
    return list(session.scalars(query))
