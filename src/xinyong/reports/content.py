"""What a report says, assembled from the services that hold it (reads only).

- the public report: the portal's card, the records the portal publishes today (with the fields the portal
  shows), the memberships of public lists in force, the objections the portal marks;
- the own report: the accounts service's own-records view (every active record, the restricted fields opened),
  every membership in force (non-public lists too), and the marks of objections and repairs;
- the special report: the same own-records view, cut to the negative record types of the catalogue, decided
  inside the span, per 领域; the 严重失信主体名单 entries in force at some day of the span.

Record types are grouped and named as the catalogue declares them (name, negative or positive); lists by the
nature their type declares. Nothing here knows a record type, a list type or a field code by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.catalog import Catalog, RecordType, load_catalog
from xinyong.clock import CHINA
from xinyong.codes import mask_person_name
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.disclosure import service as disclosure
from xinyong.errors import InvalidInput
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListNature
from xinyong.objections import service as objections_service
from xinyong.portal import service as portal_service
from xinyong.protect import Protector
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.reports import rules, sections
from xinyong.reports.models import ReportKind
from xinyong.reports.rules import Span
from xinyong.reports.sections import Group, Item, Scope
from xinyong.subjects.models import Subject, SubjectKind

NATURE_SECTIONS = {ListNature.HONOR.value: "honesty", ListNature.DISHONESTY.value: "dishonesty",
                   ListNature.WATCH.value: "watch"}  # fmt: skip
NATURE_TAGS = {ListNature.HONOR.value: "守信激励对象", ListNature.DISHONESTY.value: "失信惩戒对象",
               ListNature.WATCH.value: "重点关注对象"}  # fmt: skip
HOW_TO_REPAIR = ("登录本平台信用主体账户，在“我的信用信息”中查看信用修复告知书并在线申请；"
                 "也可到信用办服务窗口办理。信用修复不收取任何费用。")  # fmt: skip
MAX_DOMAINS = 50


@dataclass(frozen=True)
class Domain:
    """A 领域 of a special report: a department's records, or one negative record type of the catalogue."""

    label: str
    department_id: int | None = None
    record_type: str | None = None

    def covers(self, record: Record) -> bool:
        if self.department_id is not None:
            return record.department_id == self.department_id
        return record.record_type == self.record_type


class UnknownDomain(InvalidInput):
    code = "report-domain-unknown"


def resolve_domains(session: Session, texts: Iterable[str], *, settings: Settings) -> list[Domain]:
    """Each text names a department (its code or name) or a negative record type of the catalogue (its key or
    name). Unknown names are refused, never dropped: a report must cover what was asked."""
    catalog = load_catalog(settings.catalog_dirs)
    departments = departments_service.list_departments(session)
    wanted = [t.strip() for t in texts if t and t.strip()]
    if len(wanted) > MAX_DOMAINS:
        raise UnknownDomain(reason=f"一份报告最多选择 {MAX_DOMAINS} 个领域")
    domains: list[Domain] = []
    for text in wanted:
        text = text[:200]
        department = next((d for d in departments if text in (d.code, d.name)), None)
        rtype = next((t for t in catalog.types.values() if text in (t.key, t.name)), None)
        if department is not None:
            domain = Domain(department.name, department_id=department.id)
        elif rtype is not None and rtype.is_negative:
            domain = Domain(rtype.name, record_type=rtype.key)
        elif rtype is not None:
            raise UnknownDomain(reason=f"“{rtype.name}”不是违法失信类信息，不能作为专项信用报告的领域")
        else:
            raise UnknownDomain(reason=f"未知的领域“{text}”：请填写部门名称或统一社会信用代码，或失信信息类别"
                                       f"（{'、'.join(t.name for t in catalog.types.values() if t.is_negative)}）")  # fmt: skip
        if domain not in domains:
            domains.append(domain)
    return domains


# -------------------------------------------------------------------------------------------- the whole


@dataclass(frozen=True)
class Request:
    """What a report is asked for; `account` is the signed-in subject's (own and special kinds from the portal)."""

    kind: ReportKind
    span: Span | None = None
    domains: tuple[Domain, ...] = ()
    account: SubjectAccount | None = None


def build(session: Session, subject: Subject, request: Request, *, number: str, now: datetime, today: date,
          settings: Settings, protector: Protector, verify_url: str) -> dict[str, Any]:  # fmt: skip
    """The report's content as plain JSON values: what the PDF prints and the JSON carries, digested and signed."""
    catalog = portal_service.catalog_of(settings)  # the catalogue as every portal surface reads it
    scope = Scope(subject_id=subject.id, subject_kind=subject.kind.value, kind=request.kind.value, today=today,
                  start=request.span.start if request.span else None, end=request.span.end if request.span else None,
                  settings=settings)  # fmt: skip
    head = _subject_head(subject, request.kind, settings=settings, protector=protector)
    if request.kind is ReportKind.SPECIAL:
        # The cover's tags say what holds today, as the portal says it; the body speaks of the span.
        memberships = _memberships(session, subject, ReportKind.PUBLIC, today=today)
        body = _special_sections(session, subject, request, catalog, scope, settings=settings, protector=protector,
                                 today=today)  # fmt: skip
    else:
        memberships = _memberships(session, subject, request.kind, today=today)
        body = _report_sections(session, subject, request, catalog, head, memberships, scope, settings=settings,
                                protector=protector, today=today)  # fmt: skip
    tags = [NATURE_TAGS[n] for n in (ListNature.HONOR.value, ListNature.DISHONESTY.value, ListNature.WATCH.value)
            if any(m.nature == n for m in memberships)]
    tags += [t for t in sections.provided_tags(session, scope) if t not in tags]
    local = now.astimezone(CHINA)
    return {
        "format": "xinyong.credit-report/1",
        "number": number,
        "kind": request.kind.value,
        "title": "专项信用报告" if request.kind is ReportKind.SPECIAL else "公共信用信息报告",
        "kind_label": request.kind.label,
        "issuer": settings.reports_issuer,
        "generated_at": now.isoformat(),
        "generated_at_text": local.strftime("%Y年%m月%d日 %H:%M"),
        "as_of": today.isoformat(),
        "span": {"from": request.span.start.isoformat(), "to": request.span.end.isoformat()} if request.span else None,
        "span_text": request.span.text if request.span else f"截至 {today.isoformat()}",
        "domains": [d.label for d in request.domains],
        "subject": head,
        "tags": tags,
        "sections": [_section_dict(*section) for section in body],
        "verify_url": verify_url,
    }  # fmt: skip


def _section_dict(key: str, title: str, groups: list[Group], paragraphs: list[str], empty: str | None,
                  counted: bool = True) -> dict[str, Any]:  # fmt: skip
    shown = [g for g in groups if g.items or g.total]
    return {"key": key, "title": title, "count": sum(g.count for g in shown) if counted else None,
            "paragraphs": paragraphs, "groups": [g.as_dict() for g in shown], "empty_text": empty}  # fmt: skip


# key, title, groups, paragraphs, the words of an empty section (None: the paragraphs say it), counted
Section = tuple[str, str, list[Group], list[str], str | None, bool]


def _subject_head(subject: Subject, kind: ReportKind, *, settings: Settings, protector: Protector) -> dict[str, Any]:
    card = portal_service.card(subject, settings=settings, protector=protector)
    is_person = subject.kind is SubjectKind.PERSON
    # The public report prints what the portal prints; a subject's own documents carry its real name. An ID
    # number is masked on every report: documents travel.
    name = card.name if kind is ReportKind.PUBLIC else subject.name
    return {
        "name": name,
        "public_name": card.name,
        "kind_label": card.kind_label,
        "code_title": "证件号码" if is_person else "统一社会信用代码",
        "code": card.id_masked if is_person else (card.uscc or ""),
        "legal_representative_title": "经营者" if subject.kind is SubjectKind.INDIVIDUAL_BUSINESS else "法定代表人",
        "legal_representative": card.legal_representative,
        "legacy_codes": [[title, value] for title, value in card.legacy_codes.items()],
    }


def _memberships(session: Session, subject: Subject, kind: ReportKind, *, today: date
                 ) -> list[lists_service.Membership]:  # fmt: skip
    if kind is ReportKind.PUBLIC:
        return lists_service.public_memberships(session, subject, today=today)
    return lists_service.memberships(session, [subject.id], today=today).get(subject.id, [])


# ---------------------------------------------------------------------------------- public and own kinds


def _type_order(catalog: Catalog, *, public_only: bool) -> list[RecordType]:
    """The record types in the portal's order (their declared `order`, then the catalogue's): the public types of
    the public report, every type of the subject's own documents."""
    claimed = sections.claimed_types(catalog)  # shown in their own sections (信用承诺 …)
    if public_only:
        return [t for t in catalog.public_types if t.key not in claimed]
    ordered = sorted(enumerate(catalog.types.values()), key=lambda pair: (pair[1].portal.order, pair[0]))
    return [t for _, t in ordered if t.key not in claimed]


def _report_sections(session: Session, subject: Subject, request: Request, catalog: Catalog, head: dict[str, Any],
                     memberships: list[lists_service.Membership], scope: Scope, *, settings: Settings,
                     protector: Protector, today: date) -> list[Section]:  # fmt: skip
    limit = settings.reports_max_items
    basic_rows = [("名称", head["name"]), ("主体类别", head["kind_label"])]
    if head["code"]:
        basic_rows.append((head["code_title"], head["code"]))
    if head["legal_representative"]:
        basic_rows.append((head["legal_representative_title"], head["legal_representative"]))
    basic_rows += [(t, v) for t, v in head["legacy_codes"]]
    basic = [Group("登记信息", [Item(head["name"], basic_rows)])]

    negative: list[tuple[str, Record]] = []  # (title, record) of what the advice section speaks of
    administration: list[Group] = []
    if request.kind is ReportKind.PUBLIC:
        for rtype in _type_order(catalog, public_only=True):
            found, total = portal_service.published_of_type(session, subject, record_type=rtype.key,
                                                            settings=settings, protector=protector, today=today,
                                                            limit=limit)  # fmt: skip
            items = [_public_item(rtype, p) for p in found]
            administration.append(_group(rtype.name, items, total, limit))
            if rtype.is_negative:
                negative += [(item.title, p.record) for item, p in zip(items, found, strict=True)]
    else:
        own = _own_records(session, subject, request, settings=settings, protector=protector,
                           limit=limit * max(1, len(catalog.types)))  # fmt: skip
        ids = [o.record.id for o in own]
        marks = _record_marks(session, ids)
        published = disclosure.published_among(session, ids, settings=settings, today=today,
                                               subject_kind=subject.kind.value)  # fmt: skip
        for rtype in _type_order(catalog, public_only=False):
            of_type = [o for o in own if o.record.record_type == rtype.key]
            items = [_own_item(rtype, o, marks.get(o.record.id, []), o.record.id in published) for o in of_type]
            administration.append(_group(rtype.name, items[:limit], len(items), limit))
            if rtype.is_negative:
                negative += [(item.title, o.record) for item, o in zip(items, of_type, strict=True)]

    by_nature: dict[str, list[Group]] = {"honesty": [], "dishonesty": [], "watch": []}
    open_entries = {m.entry_id for m in memberships
                    if repair_service.open_application_for_entry(session, m.entry_id) is not None}  # fmt: skip
    for m in memberships:
        entry_marks = [rules.MARK_REPAIR_OPEN] if m.entry_id in open_entries and request.kind is not ReportKind.PUBLIC \
            else []  # fmt: skip
        if not m.is_public:
            entry_marks.append("不公开")
        _add(by_nature[NATURE_SECTIONS[m.nature]], m.type_name, _membership_item(m, entry_marks))
    by_nature["honesty"] += sections.provided("honesty", session, scope)

    advice = _advice(session, negative, memberships, settings=settings, today=today)
    empty = rules.EMPTY_TEXT
    return [
        ("basic", rules.SECTION_TITLES["basic"], basic, [], empty, True),
        ("administration", rules.SECTION_TITLES["administration"], administration, [], empty, True),
        ("honesty", rules.SECTION_TITLES["honesty"], by_nature["honesty"], [], empty, True),
        ("dishonesty", rules.SECTION_TITLES["dishonesty"], by_nature["dishonesty"], [], empty, True),
        ("watch", rules.SECTION_TITLES["watch"], by_nature["watch"], [], empty, True),
        *[(key, rules.SECTION_TITLES[key], sections.provided(key, session, scope), [], empty, True)
          for key in ("commitments", "evaluation", "judicial", "other")],
        ("advice", rules.SECTION_TITLES["advice"], advice, [HOW_TO_REPAIR] if advice else [], empty, True),
    ]  # fmt: skip


def _add(groups: list[Group], title: str, item: Item) -> None:
    """Into the group of that title, made when it is the first."""
    group = next((g for g in groups if g.title == title), None)
    if group is None:
        group = Group(title)
        groups.append(group)
    group.items.append(item)


def _own_records(session: Session, subject: Subject, request: Request, *, settings: Settings, protector: Protector,
                 limit: int) -> list[accounts_service.OwnRecord]:  # fmt: skip
    """The subject's own-records view: through its account when it asked from the portal (the accounts service
    checks the account may act for it), for the platform itself otherwise (the command line, a department)."""
    if request.account is not None:
        return accounts_service.own_records(session, request.account, settings=settings, protector=protector,
                                            limit=limit)  # fmt: skip
    return accounts_service.subject_records(session, subject.id, settings=settings, protector=protector, limit=limit)


def _group(title: str, items: list[Item], total: int, limit: int) -> Group:
    group = Group(title, items[:limit], total=total)
    if total > len(group.items):
        group.note = f"共 {total} 条，本报告列出最近的 {len(group.items)} 条；其余请登录平台查询"
    return group


def _tier_rows(record: Record) -> list[tuple[str, str]]:
    rows = []
    if record.tier:
        rows.append(("失信程度", record.tier))
    if record.publish_until:
        rows.append(("公示截止日期", record.publish_until.isoformat()))
    return rows


def _public_item(rtype: RecordType, found: portal_service.PublicRecord) -> Item:
    marks = [rules.MARK_OBJECTION] if found.summary["under_review"] else []
    rows = [(title, value) for _code, title, value in found.fields] + _tier_rows(found.record)
    return Item(f"{rtype.name} {found.record.doc_no}", rows, marks=marks)


def _own_item(rtype: RecordType, own: accounts_service.OwnRecord, marks: list[str], is_published: bool) -> Item:
    status = ["公示中" if is_published else "未公示"]
    return Item(f"{rtype.name} {own.record.doc_no}", list(own.fields) + _tier_rows(own.record),
                restricted=list(own.restricted), marks=status + marks)  # fmt: skip


def _record_marks(session: Session, ids: list[int]) -> dict[int, list[str]]:
    marks: dict[int, list[str]] = {}
    for mark, found in ((rules.MARK_OBJECTION, objections_service.open_record_ids(session, ids)),
                        (rules.MARK_REPAIR_OPEN, repair_service.open_record_ids(session, ids)),
                        (rules.MARK_REPAIRED, repair_service.stopped_record_ids(session, ids))):  # fmt: skip
        for record_id in found:
            marks.setdefault(record_id, []).append(mark)
    return marks


def _membership_item(m: lists_service.Membership, marks: list[str], *, ended: str | None = None) -> Item:
    rows = [("认定部门", m.source or m.department), ("决定文书号", m.decision_no or "—"),
            ("列入日期", m.valid_from.isoformat() if m.valid_from else "—"),
            ("有效期至", m.valid_until.isoformat() if m.valid_until else "至移出之日"),
            ("列入事由", m.reasons), ("列入依据", m.legal_basis)]  # fmt: skip
    if ended:
        rows.append(("现状", ended))
    return Item(m.type_name, rows, marks=marks)


def _advice(session: Session, negative: Sequence[tuple[str, Record]], memberships: list[lists_service.Membership],
            *, settings: Settings, today: date) -> list[Group]:  # fmt: skip
    """信用状况提升建议: for each negative record and punitive list entry shown, whether, from when and how it
    can be repaired (the repair service's eligibility, as its notices say it)."""
    items = []
    for title, record in negative:
        eligibility = repair_service.eligibility_of(session, record, settings=settings, today=today)
        if eligibility.code == "not-negative":
            continue
        rows = [("修复条件", eligibility.message)]
        if eligibility.earliest and eligibility.code in ("eligible", "not-yet"):
            rows.append(("最早可申请日期", eligibility.earliest.isoformat()))
        if eligibility.materials:
            rows.append(("需提交材料", "；".join(eligibility.materials)))
        items.append(Item(title, rows))
    for m in memberships:
        if m.nature == ListNature.HONOR.value:
            continue
        eligibility = repair_service.list_eligibility_of(session, lists_service.get_entry(session, m.entry_id),
                                                         settings=settings, today=today)  # fmt: skip
        rows = [("移出条件", eligibility.message), ("救济途径", m.remedy_route)]
        if eligibility.earliest and eligibility.code in ("eligible", "not-yet"):
            rows.append(("最早可申请日期", eligibility.earliest.isoformat()))
        items.append(Item(m.type_name, rows))
    return [Group("可申请信用修复的信息", items)] if items else []


# ------------------------------------------------------------------------------------------ special kind


def _special_sections(session: Session, subject: Subject, request: Request, catalog: Catalog, scope: Scope, *,
                      settings: Settings, protector: Protector, today: date) -> list[Section]:  # fmt: skip
    span = request.span
    assert span is not None
    negative_types = [t for t in _type_order(catalog, public_only=False) if t.is_negative]
    limit = settings.reports_max_items
    own = _own_records(session, subject, request, settings=settings, protector=protector, limit=limit * 20)
    negative_keys = {t.key for t in negative_types}
    in_span = [o for o in own if o.record.record_type in negative_keys
               and span.start <= o.record.decision_date <= span.end]  # fmt: skip
    marks = _record_marks(session, [o.record.id for o in in_span])
    domains = list(request.domains) or [Domain("全部领域")]
    result: list[Section] = [("scope", "查询范围", [], _scope_paragraphs(span, domains, negative_types), None, False)]
    found_any: list[tuple[str, Record]] = []
    for domain in domains:
        covered = [o for o in in_span if (domain.department_id is None and domain.record_type is None)
                   or domain.covers(o.record)]  # fmt: skip
        groups = []
        for rtype in negative_types:
            of_type = [o for o in covered if o.record.record_type == rtype.key]
            items = [Item(f"{rtype.name} {o.record.doc_no}", list(o.fields) + _tier_rows(o.record),
                          marks=marks.get(o.record.id, [])) for o in of_type]  # fmt: skip
            groups.append(_group(rtype.name, items, len(items), limit))
            found_any += [(i.title, o.record) for i, o in zip(items, of_type, strict=True)]
        verdict = (f"在{domain.label}，查询期内发现违法违规记录 {len(covered)} 条，列示如下。" if covered
                   else f"在{domain.label}，查询期内{rules.NOTHING_FOUND}。")  # fmt: skip
        result.append(("domain", domain.label, groups, [verdict], None, True))
    entries = lists_service.memberships_between(session, subject.id, start=span.start, end=span.end)
    listed = [(m, state, ended) for m, state, ended in entries if m.nature == ListNature.DISHONESTY.value]
    repaired = repair_service.repaired_entry_ids(session, [m.entry_id for m, _, _ in listed])
    list_groups: list[Group] = []
    for m, state, ended in listed:
        status = {EntryState.PUBLISHED: "仍在名单中", EntryState.EXPIRED: f"已于 {ended} 期满移出",
                  EntryState.REMOVED: f"已于 {ended} 移出"}.get(state)  # fmt: skip
        _add(list_groups, m.type_name,
             _membership_item(m, [rules.MARK_REPAIRED] if m.entry_id in repaired else [], ended=status))
    verdict = (f"查询期内曾被列入严重失信主体名单 {len(listed)} 次，列示如下。" if listed
               else "查询期内未被列入严重失信主体名单。")  # fmt: skip
    result.append(("dishonesty", rules.SECTION_TITLES["dishonesty"], list_groups, [verdict], None, True))
    # 刑事裁判 belong to a special report too (565号); courts' data arrives through the judicial providers.
    result.append(("judicial", rules.SECTION_TITLES["judicial"], sections.provided("judicial", session, scope), [],
                   rules.EMPTY_TEXT, True))  # fmt: skip
    advice = _advice(session, found_any, [m for m, state, _ in listed if state is EntryState.PUBLISHED],
                     settings=settings, today=today)  # fmt: skip
    result.append(("advice", rules.SECTION_TITLES["advice"], advice, [HOW_TO_REPAIR] if advice else [],
                   rules.EMPTY_TEXT, True))  # fmt: skip
    return result


def _scope_paragraphs(span: Span, domains: list[Domain], negative_types: list[RecordType]) -> list[str]:
    held = {t.name for t in negative_types}
    paragraphs = [
        f"查询期：{span.text}。",
        "查询领域：" + "、".join(d.label for d in domains) + "。",
        "查询内容：" + "、".join([*(t.name for t in negative_types), "严重失信主体名单"])
        + "。行政处罚包括数据来源单位已报送的按简易程序作出的行政处罚；已修复的记录标注“已修复”。",
    ]
    missing = [name for name in rules.SPECIAL_REQUIRED_TYPES if name not in held]
    if missing:
        paragraphs.append("本平台信用信息目录尚未归集" + "、".join(f"“{n}”" for n in missing)
                          + "信息，本报告不能证明该类事项，请向主管部门核实。")  # fmt: skip
    return paragraphs


def masked_name(subject: Subject) -> str:
    """The name the registry keeps (the verification page shows it): a person's is always masked."""
    return mask_person_name(subject.name) if subject.kind is SubjectKind.PERSON else subject.name
