"""What the portal pages and the public API show, assembled once for both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session

from xinyong.actors import DepartmentScope
from xinyong.catalog import Catalog, RecordType, load_catalog
from xinyong.codes import CodeError, mask_id_number, mask_id_numbers, normalize_code, validate_id_number
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.disclosure import rules as disclosure_rules
from xinyong.disclosure import service as disclosure
from xinyong.errors import InvalidInput, NotFound
from xinyong.objections import service as objections_service
from xinyong.protect import Protector
from xinyong.records.models import Record
from xinyong.subjects import names as search
from xinyong.subjects import refs
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject, SubjectKind

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


def catalog_of(settings: Settings) -> Catalog:
    """The catalogue every portal surface reads: which types are public, their tabs, titles and fields."""
    return load_catalog(settings.catalog_dirs)


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


def within(scope: DepartmentScope | None) -> ColumnElement[bool] | None:
    """The records a county's portal shows: made in the county (an IN list on the department column, the
    first of the records' unique index); None for the platform's own portal, which shows all."""
    return scope.clause(Record.department_id, Record.created_at) if scope is not None else None


def counts_for(session: Session, subjects: list[Subject], *, settings: Settings, today: date,
               scope: DepartmentScope | None = None) -> dict[int, dict[str, int]]:  # fmt: skip
    """Published record counts per subject and public type, in one query. The publication rules depend on the
    subject's kind (persons have their own): with one kind the clause names it, with several it reads
    `subjects.kind`. Types the catalogue does not publish (授权查询, 政务共享) are not counted. `scope`: only
    records made in a county (its portal)."""
    result: dict[int, dict[str, int]] = {s.id: {} for s in subjects}
    if not subjects:
        return result
    policy = disclosure.load_policy(settings)
    public = catalog_of(settings).public_keys
    kinds = {s.kind.value for s in subjects}
    kind = kinds.pop() if len(kinds) == 1 else Subject.kind
    clause = disclosure.published_clause(session, policy, today, subject_kind=kind)
    statement = _count_statement(clause, reads_subjects=not isinstance(kind, str), scope=scope)
    for subject_id, record_type, count in session.execute(statement, {"ids": list(result)}):
        if record_type in public:
            result[subject_id][record_type] = count
    return result


_COUNT_STATEMENTS: dict[tuple[int, bool, DepartmentScope | None], tuple[ColumnElement[bool], Select[Any]]] = {}


def _count_statement(clause: ColumnElement[bool], *, reads_subjects: bool, scope: DepartmentScope | None = None
                     ) -> Select[Any]:  # fmt: skip
    """The count query of one publication clause (and county scope), built once: `published_clause` hands out
    the same clause all day, and building a statement around it cost as much as running it."""
    key = (id(clause), reads_subjects, scope)
    hit = _COUNT_STATEMENTS.get(key)
    if hit is not None and hit[0] is clause:  # ids are only unique among live objects
        return hit[1]
    query: Select[Any] = select(Record.subject_id, Record.record_type, func.count())  # type: ignore[assignment]
    if reads_subjects:  # the clause reads subjects.kind
        query = query.join(Subject, Subject.id == Record.subject_id)
    scoped = within(scope)
    statement = query.where(Record.subject_id.in_(bindparam("ids", expanding=True)), clause,
                            *([scoped] if scoped is not None else [])).group_by(Record.subject_id, Record.record_type)  # fmt: skip
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
    session: Session, query: str, *, settings: Settings, protector: Protector, page: int, today: date,
    scope: DepartmentScope | None = None,
) -> SearchResult:
    """Subjects by code or name. The subjects are the platform's (one register for the city and its
    counties); a county's portal (`scope`) counts only the records made in the county."""
    query = _clean_query(query)
    shown = mask_id_numbers(query)  # never echo an ID number into a page, however it was typed
    size = settings.portal_page_size
    if not query:
        return SearchResult(query, "empty", [], 0, False, 1, 0)
    if search.looks_like_code(query):
        subject = subjects_service.find_by_code(session, query, protector)
        subjects = [subject] if subject else []
        counts = counts_for(session, subjects, settings=settings, today=today, scope=scope)
        cards = [card(s, settings=settings, protector=protector, counts=counts[s.id]) for s in subjects]
        if _is_id_number(query):
            shown = mask_id_number(query)
        return SearchResult(shown, "code", cards, len(cards), False, 1, 1 if cards else 0)
    if len(search.normalize_name(query)) < search.MIN_QUERY_CHARS:
        return SearchResult(shown, "too-short", [], 0, False, 1, 0)
    page = min(max(page, 1), MAX_PAGE)
    # Stored names have their ID numbers masked (ingestion): so has the name looked for.
    hits = search.search_names(session, shown, offset=(page - 1) * size, limit=size)
    by_id = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(hits.subject_ids)))}
    subjects = [by_id[i] for i in hits.subject_ids if i in by_id]
    counts = counts_for(session, subjects, settings=settings, today=today, scope=scope)
    cards = [card(s, settings=settings, protector=protector, counts=counts[s.id]) for s in subjects]
    pages = min(MAX_PAGE, -(-hits.total // size))
    return SearchResult(shown, "name", cards, hits.total, hits.is_capped, page, pages)


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


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int
    is_negative: bool


@dataclass
class Profile:
    subject: Subject
    card: SubjectCard
    tab: str
    records: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    record_type: RecordType  # the shown tab's type: its titles and summary fields
    tabs: list[Tab]


def public_type(settings: Settings, key: str) -> RecordType:
    """A type the public may ask for by key (a tab, the API's `record_type`); any other is refused by name."""
    catalog = catalog_of(settings)
    if key not in catalog.public_keys:
        keys = "、".join(t.key for t in catalog.public_types)
        raise InvalidInput(reason=f"未知的信息类别“{key[:40]}”（可用：{keys}）")
    return catalog.types[key]


def default_tab(catalog: Catalog, counts: dict[str, int]) -> str | None:
    """The tab a profile opens on: the first negative type with published records, else the first type with
    records, else the catalogue's default."""
    with_records = [t for t in catalog.public_types if counts.get(t.key)]
    negative = [t for t in with_records if t.is_negative]
    return (negative or with_records)[0].key if with_records else catalog.default_public_key


def tabs(catalog: Catalog, counts: dict[str, int], shown: str) -> list[Tab]:
    """One tab per public type with published records, and the one shown even when it has none."""
    return [Tab(t.key, t.portal.tab, counts.get(t.key, 0), t.is_negative) for t in catalog.public_types
            if counts.get(t.key) or t.key == shown]  # fmt: skip


def profile(
    session: Session, ref: str, *, settings: Settings, protector: Protector, tab: str | None, page: int, today: date,
    scope: DepartmentScope | None = None,
) -> Profile:
    """A subject's published records of one public type; `tab` None opens the default tab. Raises InvalidInput
    for a type the public may not ask for, NotFound for an unknown subject. `scope`: a county's portal, whose
    records, counts and tabs are those made in the county."""
    catalog = catalog_of(settings)
    if tab is not None:
        public_type(settings, tab)
    subject = resolve_subject(session, ref, protector=protector)
    counts = counts_for(session, [subject], settings=settings, today=today, scope=scope)[subject.id]
    tab = tab or default_tab(catalog, counts)
    if tab is None:
        raise NotFound(what="可公开的信息类别")
    size = settings.portal_page_size
    page = min(max(page, 1), MAX_PAGE)
    records, total = disclosure.published_records(
        session, settings=settings, subject=subject, record_type=tab, today=today, offset=(page - 1) * size,
        limit=size, within=within(scope),
    )  # fmt: skip
    departments = departments_service.names_by_id(session)
    disputed = objections_service.open_record_ids(session, [r.id for r in records])
    rows = [summary(r, subject, departments, settings=settings, protector=protector, under_review=r.id in disputed)
            for r in records]  # fmt: skip
    return Profile(subject, card(subject, settings=settings, protector=protector, counts=counts), tab, rows, total,
                   page, max(1, -(-total // size)), catalog.types[tab], tabs(catalog, counts, tab))  # fmt: skip


def summary(record: Record, subject: Subject, departments: dict[int, str], *, settings: Settings,
            protector: Protector, under_review: bool = False) -> dict[str, Any]:  # fmt: skip
    """One published record as listings, profiles, the CSV export and the public API show it: `highlights` are
    the type's declared summary fields, `fields` every public field with a value (by code, in catalogue order)."""
    policy = disclosure.load_policy(settings)
    rtype = catalog_of(settings).get(record.record_type)
    payload = _public_payload(record, subject, rtype, policy)
    return {
        "ref": refs.record_ref(record.id, protector),
        "record_type": record.record_type,
        "record_type_label": rtype.name,
        "doc_no": record.doc_no,
        "subject_name": disclosure_rules.public_name(record.subject_name, subject.kind.value, policy),
        "decision_date": record.decision_date.isoformat(),
        "valid_from": record.valid_from.isoformat() if record.valid_from else None,
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "tier": record.tier,
        "publish_until": record.publish_until.isoformat() if record.publish_until else None,
        "department": departments.get(record.department_id, ""),
        "highlights": {spec.code: payload.get(spec.code, "") for spec in rtype.summary_fields},
        "fields": {spec.code: payload[spec.code] for spec in rtype.public_fields if payload.get(spec.code)},
        "under_review": under_review,  # an objection to it is open (异议处理中)
    }


def _public_payload(record: Record, subject: Subject, rtype: RecordType, policy: disclosure_rules.DisclosurePolicy
                    ) -> dict[str, str]:  # fmt: skip
    """The public fields of the payload as the public may read them: fields the catalogue does not publish
    (protected, or declared `public = false`) are left out; a person's name is masked in its own field and
    wherever the department repeated it in free text."""
    payload = {spec.code: record.payload[spec.code] for spec in rtype.public_fields
               if record.payload and spec.code in record.payload}  # fmt: skip
    if subject.kind == SubjectKind.PERSON and policy.mask_person_names:
        names = {n for n in (subject.name, record.subject_name) if n and len(n) >= 2}
        for code, value in payload.items():
            if isinstance(value, str):
                for name in names:
                    value = value.replace(name, disclosure_rules.public_name(name, "person", policy))
                payload[code] = value
        name_spec = rtype.field_by_role("subject_name")
        if name_spec is not None and name_spec.code in payload:
            payload[name_spec.code] = disclosure_rules.public_name(payload[name_spec.code], subject.kind.value, policy)
    return payload


@dataclass
class RecordDetail:
    summary: dict[str, Any]
    subject: SubjectCard
    fields: list[tuple[str, str, str]]  # (code, title, value): the public fields with a value, in catalogue order
    legal_basis: str
    type_name: str
    record_type: RecordType


def record_detail(session: Session, ref: str, *, settings: Settings, protector: Protector, today: date,
                  scope: DepartmentScope | None = None) -> RecordDetail:  # fmt: skip
    """One published record; NotFound in a county's portal (`scope`) for a record made elsewhere."""
    record_id = refs.parse_record_ref(ref, protector)
    if record_id is None:
        raise NotFound(what="该信用记录")
    record = disclosure.get_published_record(session, settings=settings, record_id=record_id, today=today,
                                             within=within(scope))  # fmt: skip
    rtype = catalog_of(settings).get(record.record_type)
    if not rtype.is_public:
        raise NotFound(what="该信用记录")
    subject = session.get(Subject, record.subject_id)
    assert subject is not None
    departments = departments_service.names_by_id(session)
    row = summary(record, subject, departments, settings=settings, protector=protector,
                  under_review=bool(objections_service.open_record_ids(session, [record.id])))  # fmt: skip
    titles = {spec.code: spec.title for spec in rtype.public_fields}
    return RecordDetail(
        summary=row,
        subject=card(subject, settings=settings, protector=protector),
        fields=[(code, titles[code], value) for code, value in row["fields"].items()],
        legal_basis=rtype.legal_basis,
        type_name=rtype.name,
        record_type=rtype,
    )


@dataclass
class PublicRecord:
    record: Record
    summary: dict[str, Any]
    fields: list[tuple[str, str, str]]  # (code, title, value): the public fields with a value, in catalogue order


def published_of_type(session: Session, subject: Subject, *, record_type: str, settings: Settings,
                      protector: Protector, today: date, limit: int) -> tuple[list[PublicRecord], int]:  # fmt: skip
    """Every record of one public type the portal shows about the subject today (newest first, at most `limit`),
    with its public fields, and how many there are: what a public credit report prints."""
    rtype = public_type(settings, record_type)
    records, total = disclosure.published_records(session, settings=settings, subject=subject,
                                                  record_type=record_type, today=today, limit=limit)  # fmt: skip
    departments = departments_service.names_by_id(session)
    disputed = objections_service.open_record_ids(session, [r.id for r in records])
    titles = {spec.code: spec.title for spec in rtype.public_fields}
    found = []
    for record in records:
        row = summary(record, subject, departments, settings=settings, protector=protector,
                      under_review=record.id in disputed)  # fmt: skip
        found.append(PublicRecord(record, row, [(code, titles[code], str(value)) for code, value in row["fields"].items()]))
    return found, total


def departments(session: Session, scope: DepartmentScope | None = None) -> list[Department]:
    """The departments a listing can be filtered by (a county's portal: those now in the county)."""
    query = select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    if scope is not None:
        query = query.where(Department.id.in_(sorted(scope.current)))
    return list(session.scalars(query))


def listing_type(settings: Settings, key: str) -> RecordType:
    """The type of a public listing (/disclosure/<key>): only types the catalogue declares listable have one."""
    record_type = catalog_of(settings).types.get(key)
    if record_type is None or not record_type.is_listable:
        raise NotFound(what="该公示栏目")
    return record_type


def listing(
    session: Session, *, settings: Settings, protector: Protector, listing: disclosure.ListingFilter, page: int,
    today: date, page_size: int | None = None, scope: DepartmentScope | None = None,
) -> tuple[list[dict[str, Any]], int, bool, int]:  # fmt: skip
    listing_type(settings, listing.record_type)
    size = page_size or settings.portal_page_size
    page = min(max(page, 1), MAX_PAGE)
    rows, total, capped = disclosure.latest_records(
        session, settings=settings, listing=listing, today=today, offset=(page - 1) * size, limit=size,
        within=within(scope),
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


def export_rows(items: list[dict[str, Any]], record_type: RecordType) -> tuple[list[str], list[list[str]]]:
    """The CSV export of a listing page: the common columns, then the type's declared export fields."""
    header = [record_type.role_title("subject_name", "行政相对人名称"), "统一社会信用代码",
              record_type.role_title("doc_no", "决定文书号"), record_type.role_title("decision_date", "决定日期"),
              "部门", *(spec.title for spec in record_type.export_fields)]  # fmt: skip
    rows = [[i["subject_name"], i["subject"].uscc or "", i["doc_no"], i["decision_date"], i["department"],
             *(i["fields"].get(spec.code, "") for spec in record_type.export_fields)] for i in items]  # fmt: skip
    return header, rows


def home_counts(session: Session, *, settings: Settings, today: date, scope: DepartmentScope | None = None
                ) -> dict[str, dict[str, int]]:  # fmt: skip
    """Records published in the last 7 and 30 days, per type (the home page shows the listable ones)."""
    return {
        "7": disclosure.recent_counts(session, settings=settings, today=today, days=7, within=within(scope)),
        "30": disclosure.recent_counts(session, settings=settings, today=today, days=30, within=within(scope)),
    }

