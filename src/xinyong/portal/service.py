"""What the portal pages and the public API show, assembled once for both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session

from xinyong.catalog import load_catalog
from xinyong.codes import CodeError, mask_id_number, normalize_code, validate_id_number
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.disclosure import rules as disclosure_rules
from xinyong.disclosure import service as disclosure
from xinyong.errors import InvalidInput, NotFound
from xinyong.objections import service as objections_service
from xinyong.portal import refs
from xinyong.protect import Protector
from xinyong.records.models import Record
from xinyong.subjects import names as search
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

RECORD_TYPES = {"license": "行政许可", "penalty": "行政处罚"}
MAX_PAGE = 50  # deeper pages serve harvesting, not people: refine the query instead


@dataclass
class SubjectCard:
    ref: str
    name: str
    kind: str
    kind_label: str
    uscc: str | None
    id_masked: str | None
    legal_representative: str | None
    counts: dict[str, int] = field(default_factory=dict)
    legacy_codes: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    query: str
    mode: str  # "code" | "name" | "empty" | "too-short"
    cards: list[SubjectCard]
    total: int
    is_capped: bool
    page: int
    pages: int


LEGACY_TITLES = {
    "registration_number": "工商注册号",
    "org_code": "组织机构代码",
    "tax_number": "税务登记号",
    "institution_cert": "事业单位证书号",
    "social_org_cert": "社会组织登记证号",
}


def card(subject: Subject, *, settings: Settings, protector: Protector, counts: dict[str, int] | None = None
         ) -> SubjectCard:  # fmt: skip
    policy = disclosure.load_policy(settings)
    is_person = subject.kind == SubjectKind.PERSON
    return SubjectCard(
        ref=refs.subject_ref(subject, protector),
        name=disclosure_rules.public_name(subject.name, subject.kind.value, policy),
        kind=subject.kind.value,
        kind_label=subject.kind.label,
        uscc=subject.uscc,
        id_masked=subject.id_masked if is_person else None,
        legal_representative=None if is_person else subject.legal_representative,
        counts=counts or {},
        legacy_codes={t: getattr(subject, c) for c, t in LEGACY_TITLES.items() if getattr(subject, c)},
    )


def counts_for(session: Session, subjects: list[Subject], *, settings: Settings, today: date
                ) -> dict[int, dict[str, int]]:  # fmt: skip
    """Published record counts per subject, in one query. The publication rules depend on the subject's kind
    (persons have their own): with one kind the clause names it, with several it reads `subjects.kind`."""
    result: dict[int, dict[str, int]] = {s.id: {} for s in subjects}
    if not subjects:
        return result
    policy = disclosure.load_policy(settings)
    kinds = {s.kind.value for s in subjects}
    kind = kinds.pop() if len(kinds) == 1 else Subject.kind
    clause = disclosure.published_clause(session, policy, today, subject_kind=kind)
    statement = _count_statement(clause, reads_subjects=not isinstance(kind, str))
    for subject_id, record_type, count in session.execute(statement, {"ids": list(result)}):
        result[subject_id][record_type] = count
    return result


_COUNT_STATEMENTS: dict[tuple[int, bool], tuple[ColumnElement[bool], Select[Any]]] = {}


def _count_statement(clause: ColumnElement[bool], *, reads_subjects: bool) -> Select[Any]:
    """The count query of one publication clause, built once: `published_clause` hands out the same clause
    all day, and building a statement around it cost as much as running it."""
    key = (id(clause), reads_subjects)
    hit = _COUNT_STATEMENTS.get(key)
    if hit is not None and hit[0] is clause:  # ids are only unique among live objects
        return hit[1]
    query: Select[Any] = select(Record.subject_id, Record.record_type, func.count())  # type: ignore[assignment]
    if reads_subjects:  # the clause reads subjects.kind
        query = query.join(Subject, Subject.id == Record.subject_id)
    statement = query.where(Record.subject_id.in_(bindparam("ids", expanding=True)), clause).group_by(
        Record.subject_id, Record.record_type
    )
    if len(_COUNT_STATEMENTS) > 64:
        _COUNT_STATEMENTS.clear()
    _COUNT_STATEMENTS[key] = (clause, statement)
    return statement


def _clean_query(query: str | None) -> str:
    return (query or "").strip()[:100]


def is_code_query(query: str | None) -> bool:
    """Whether `find_subjects` answers this query by exact code: a unique-key read and one count query."""
    return search.looks_like_code(_clean_query(query))


def find_subjects(
    session: Session, query: str, *, settings: Settings, protector: Protector, page: int, today: date
) -> SearchResult:
    query = _clean_query(query)
    size = settings.portal_page_size
    if not query:
        return SearchResult(query, "empty", [], 0, False, 1, 0)
    if search.looks_like_code(query):
        subject = subjects_service.find_by_code(session, query, protector)
        subjects = [subject] if subject else []
        counts = counts_for(session, subjects, settings=settings, today=today)
        cards = [card(s, settings=settings, protector=protector, counts=counts[s.id]) for s in subjects]
        if _is_id_number(query):
            query = mask_id_number(query)  # never echo a full ID number into a page
        return SearchResult(query, "code", cards, len(cards), False, 1, 1 if cards else 0)
    if len(search.normalize_name(query)) < search.MIN_QUERY_CHARS:
        return SearchResult(query, "too-short", [], 0, False, 1, 0)
    page = min(max(page, 1), MAX_PAGE)
    hits = search.search_names(session, query, offset=(page - 1) * size, limit=size)
    by_id = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(hits.subject_ids)))}
    subjects = [by_id[i] for i in hits.subject_ids if i in by_id]
    counts = counts_for(session, subjects, settings=settings, today=today)
    cards = [card(s, settings=settings, protector=protector, counts=counts[s.id]) for s in subjects]
    pages = min(MAX_PAGE, -(-hits.total // size))
    return SearchResult(query, "name", cards, hits.total, hits.is_capped, page, pages)


def _is_id_number(query: str) -> bool:
    try:
        validate_id_number(normalize_code(query))
    except CodeError:
        return False
    return True


def resolve_subject(session: Session, ref: str, *, protector: Protector) -> Subject:
    """A subject by USCC, legacy code or signed reference. ID numbers are not accepted here: they would
    end up in URLs and logs (search by ID number goes through the search box)."""
    ref = (ref or "").strip()
    subject_id = refs.parse_subject_ref(ref, protector)
    subject = session.get(Subject, subject_id) if subject_id else None
    if subject is None and search.looks_like_code(ref):
        found = subjects_service.find_by_code(session, ref, protector)
        if found is not None and found.kind != SubjectKind.PERSON:
            subject = found
    if subject is None:
        raise NotFound(what="该信用主体")
    return subject


@dataclass
class Profile:
    subject: Subject
    card: SubjectCard
    tab: str
    records: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def profile(
    session: Session, ref: str, *, settings: Settings, protector: Protector, tab: str, page: int, today: date
) -> Profile:
    if tab not in RECORD_TYPES:
        raise InvalidInput(reason="未知的信息类别")
    subject = resolve_subject(session, ref, protector=protector)
    counts = counts_for(session, [subject], settings=settings, today=today)[subject.id]
    size = settings.portal_page_size
    page = min(max(page, 1), MAX_PAGE)
    records, total = disclosure.published_records(
        session, settings=settings, subject=subject, record_type=tab, today=today, offset=(page - 1) * size,
        limit=size,
    )  # fmt: skip
    departments = departments_service.names_by_id(session)
    disputed = objections_service.open_record_ids(session, [r.id for r in records])
    rows = [summary(r, subject, departments, settings=settings, protector=protector, under_review=r.id in disputed)
            for r in records]  # fmt: skip
    return Profile(subject, card(subject, settings=settings, protector=protector, counts=counts), tab, rows, total,
                   page, max(1, -(-total // size)))  # fmt: skip


SUMMARY_FIELDS = {
    "license": ("XK_XKWS", "XK_XKLB", "XK_NR"),
    "penalty": ("CF_WFXW", "CF_CFLB", "CF_NR"),
}


def summary(record: Record, subject: Subject, departments: dict[int, str], *, settings: Settings,
            protector: Protector, under_review: bool = False) -> dict[str, Any]:  # fmt: skip
    policy = disclosure.load_policy(settings)
    payload = _public_payload(record, subject, policy)
    return {
        "ref": refs.record_ref(record.id, protector),
        "record_type": record.record_type,
        "record_type_label": RECORD_TYPES.get(record.record_type, record.record_type),
        "doc_no": record.doc_no,
        "subject_name": disclosure_rules.public_name(record.subject_name, subject.kind.value, policy),
        "decision_date": record.decision_date.isoformat(),
        "valid_from": record.valid_from.isoformat() if record.valid_from else None,
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "tier": record.tier,
        "publish_until": record.publish_until.isoformat() if record.publish_until else None,
        "department": departments.get(record.department_id, ""),
        "highlights": {code: payload.get(code, "") for code in SUMMARY_FIELDS.get(record.record_type, ())},
        "under_review": under_review,  # an objection to it is open (异议处理中)
    }


def _public_payload(record: Record, subject: Subject, policy: disclosure_rules.DisclosurePolicy) -> dict[str, str]:
    """The payload as the public may read it: protected values arrive masked from ingestion; a person's
    name is masked wherever the department repeated it in free text."""
    payload = dict(record.payload or {})
    if subject.kind == SubjectKind.PERSON and policy.mask_person_names:
        names = {n for n in (subject.name, record.subject_name) if n and len(n) >= 2}
        for code, value in payload.items():
            if isinstance(value, str):
                for name in names:
                    value = value.replace(name, disclosure_rules.public_name(name, "person", policy))
                payload[code] = value
    return payload


@dataclass
class RecordDetail:
    summary: dict[str, Any]
    subject: SubjectCard
    fields: list[tuple[str, str, str]]  # (code, title, value)
    legal_basis: str
    type_name: str


def record_detail(session: Session, ref: str, *, settings: Settings, protector: Protector, today: date
                  ) -> RecordDetail:  # fmt: skip
    record_id = refs.parse_record_ref(ref, protector)
    if record_id is None:
        raise NotFound(what="该信用记录")
    record = disclosure.get_published_record(session, settings=settings, record_id=record_id, today=today)
    subject = session.get(Subject, record.subject_id)
    assert subject is not None
    policy = disclosure.load_policy(settings)
    rtype = load_catalog(settings.catalog_dirs).get(record.record_type)
    payload = _public_payload(record, subject, policy)
    name_spec = rtype.field_by_role("subject_name")
    if name_spec is not None and name_spec.code in payload:
        payload[name_spec.code] = disclosure_rules.public_name(payload[name_spec.code], subject.kind.value, policy)
    fields = [(spec.code, spec.title, payload[spec.code]) for spec in rtype.fields if payload.get(spec.code)]
    departments = departments_service.names_by_id(session)
    return RecordDetail(
        summary=summary(record, subject, departments, settings=settings, protector=protector,
                        under_review=bool(objections_service.open_record_ids(session, [record.id]))),
        subject=card(subject, settings=settings, protector=protector),
        fields=fields,
        legal_basis=rtype.legal_basis,
        type_name=rtype.name,
    )


def departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).where(Department.is_active.is_(True)).order_by(Department.name)))


def listing(
    session: Session, *, settings: Settings, protector: Protector, listing: disclosure.ListingFilter, page: int,
    today: date, page_size: int | None = None,
) -> tuple[list[dict[str, Any]], int, bool, int]:  # fmt: skip
    size = page_size or settings.portal_page_size
    page = min(max(page, 1), MAX_PAGE)
    rows, total, capped = disclosure.latest_records(
        session, settings=settings, listing=listing, today=today, offset=(page - 1) * size, limit=size
    )
    names = departments_service.names_by_id(session)
    disputed = objections_service.open_record_ids(session, [r.id for r, _ in rows])
    items = []
    for record, subject in rows:
        item = summary(record, subject, names, settings=settings, protector=protector,
                       under_review=record.id in disputed)
        item["subject"] = card(subject, settings=settings, protector=protector)
        items.append(item)
    return items, total, capped, min(MAX_PAGE, max(1, -(-total // size)))


def home_counts(session: Session, *, settings: Settings, today: date) -> dict[str, dict[str, int]]:
    return {
        "7": disclosure.recent_counts(session, settings=settings, today=today, days=7),
        "30": disclosure.recent_counts(session, settings=settings, today=today, days=30),
    }

