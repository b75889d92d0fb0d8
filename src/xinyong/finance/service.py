"""信易贷 use-cases: institutions and their keys, consents and reads under them, demands, the whitelist.

An institution reads a subject's data only under a consent in force that names what it asks for; every read is
recorded against its consent (and in the audit trail), every refusal too."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts.models import SubjectAccount
from xinyong.accounts.service import require_identity
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.calendar.service import load_calendar
from xinyong.catalog import load_catalog
from xinyong.codes import CodeError, clean_display_name, mask_id_numbers, validate_uscc
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from xinyong.evaluation import service as evaluation_service
from xinyong.evaluation.models import EvaluationScore
from xinyong.exports import safe_cell
from xinyong.finance import rules
from xinyong.finance.models import (
    Consent,
    ConsentAccess,
    Demand,
    DemandStatus,
    Institution,
    InstitutionKey,
    InstitutionUser,
    WhitelistFeed,
)
from xinyong.freetext import clean_text
from xinyong.lists import service as lists_service
from xinyong.lists.models import ListNature, ListType
from xinyong.records.models import Record, RecordStatus
from xinyong.regions import service as regions_service
from xinyong.subjects.models import Subject

NEGATIVE_NATURES = frozenset({ListNature.DISHONESTY.value, ListNature.WATCH.value})


def config() -> rules.FinanceConfig:
    return rules.load_config()


def scope_items(settings: Settings) -> dict[str, str]:
    catalog = load_catalog(settings.catalog_dirs)
    return rules.scope_items(config(), {k: t.name for k, t in catalog.types.items()})


def _account_label(account: SubjectAccount) -> str:
    return f"subject-account:{account.id}"


# ------------------------------------------------------------------------------------ institutions


def register_institution(session: Session, *, code: str, name: str, purposes: list[str], min_amount: str = "0.01",
                         max_amount: str = "100000", actor: Actor) -> Institution:  # fmt: skip
    try:
        code = validate_uscc(code)
    except CodeError as exc:
        raise InvalidInput(reason=exc.message) from None
    name = mask_id_numbers(clean_display_name(name))[:200]  # an ID number typed into a name is never kept
    if not name:
        raise InvalidInput(reason="机构名称不能为空")
    if session.scalar(select(Institution.id).where(Institution.code == code)):
        raise AlreadyExists(what=f"金融机构 {code}")
    cfg = config()
    unknown = [p for p in purposes if p not in cfg.purposes]
    if unknown:
        raise InvalidInput(reason=f"未知的融资用途：{'、'.join(u[:20] for u in unknown[:3])}")
    low = rules.parse_amount(min_amount or "0.01", what="最低金额", limit=cfg.max_amount)
    high = rules.parse_amount(max_amount or str(cfg.max_amount), what="最高金额", limit=cfg.max_amount)
    if low > high:
        raise InvalidInput(reason="最低金额不能高于最高金额")
    institution = Institution(code=code, name=name, purposes=list(purposes), min_amount=low, max_amount=high)
    session.add(institution)
    session.flush()
    audit.record(session, AuditAction.INSTITUTION_REGISTERED, actor=actor, target=f"institution:{institution.id}",
                 details={"code": code, "name": name})  # fmt: skip
    return institution


def list_institutions(session: Session, *, active_only: bool = False) -> list[Institution]:
    query = select(Institution).order_by(Institution.name)
    if active_only:
        query = query.where(Institution.is_active.is_(True))
    return list(session.scalars(query))


def get_institution(session: Session, institution_id: int) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(what="该金融机构")
    return institution


def institution_by_code(session: Session, code: str) -> Institution:
    institution = session.scalar(select(Institution).where(Institution.code == (code or "").strip().upper()[:18]))
    if institution is None:
        raise NotFound(what=f"金融机构 {code[:20]}")
    return institution


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(session: Session, institution: Institution, *, name: str, actor: Actor) -> tuple[InstitutionKey, str]:
    """The key and its full text, shown once and never stored."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = InstitutionKey(institution_id=institution.id, prefix=prefix, secret_hash=_hash(secret),
                         name=clean_display_name(name)[:100] or "信贷业务系统")  # fmt: skip
    session.add(key)
    session.flush()
    audit.record(session, AuditAction.INSTITUTION_KEY_ISSUED, actor=actor, target=f"institution-key:{prefix}",
                 details={"institution": institution.id})  # fmt: skip
    return key, f"{rules.KEY_PREFIX}_{prefix}_{secret}"


def keys_of(session: Session, institution_id: int) -> list[InstitutionKey]:
    return list(session.scalars(select(InstitutionKey).where(InstitutionKey.institution_id == institution_id)
                                .order_by(InstitutionKey.id.desc())))  # fmt: skip


def verify_key(session: Session, token: str) -> InstitutionKey:
    parts = token.split("_", 2)
    if len(token) > 200 or len(parts) != 3 or parts[0] != rules.KEY_PREFIX:
        raise NotAuthenticated("金融机构访问密钥格式不正确（Bearer fi_…）")
    key = session.scalar(select(InstitutionKey).where(InstitutionKey.prefix == parts[1]))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        raise NotAuthenticated("金融机构访问密钥无效")
    if key.revoked_at is not None:
        raise NotAuthenticated("金融机构访问密钥已被吊销")
    if not key.institution.is_active:
        raise NotAuthenticated("该金融机构已停用")
    return key


@dataclass(frozen=True)
class Caller:
    """Who acts for an institution: its system with a key, or one of its officers on the console."""

    institution: Institution
    label: str  # for the audit trail
    short: str  # for the access list the subject reads (the key's prefix, or "officer:<id>")

    @property
    def institution_id(self) -> int:
        return self.institution.id


def key_caller(key: InstitutionKey) -> Caller:
    return Caller(key.institution, f"institution-key:{key.prefix}", key.prefix)


def officer_caller(session: Session, actor: Actor) -> Caller:
    """The institution a console officer acts for; refused when the account is linked to none."""
    link = session.scalar(select(InstitutionUser).where(InstitutionUser.user_id == actor.user_id))
    if link is None or not link.institution.is_active:
        raise PermissionDenied("本账户未关联在用的金融机构，请联系信用办")
    return Caller(link.institution, actor.label, f"officer:{actor.user_id}"[:16])


def add_officer(session: Session, institution: Institution, *, user_id: int, actor: Actor) -> InstitutionUser:
    existing = session.scalar(select(InstitutionUser).where(InstitutionUser.user_id == user_id))
    if existing is not None:
        raise AlreadyExists(what="该账户与金融机构的关联")
    link = InstitutionUser(user_id=user_id, institution_id=institution.id)
    session.add(link)
    session.flush()
    audit.record(session, AuditAction.INSTITUTION_OFFICER_ADDED, actor=actor, target=f"user:{user_id}",
                 details={"institution": institution.id})  # fmt: skip
    return link


def officers_of(session: Session, institution_id: int) -> list[InstitutionUser]:
    return list(session.scalars(select(InstitutionUser).where(InstitutionUser.institution_id == institution_id)))


def consents_for(session: Session, caller: Caller, *, today: date) -> list[tuple[Consent, Subject]]:
    """Consents in force that the institution holds (its officer's work list); never another institution's."""
    rows = session.execute(select(Consent, Subject).join(Subject, Subject.id == Consent.subject_id).where(
        Consent.institution_id == caller.institution_id, Consent.revoked_at.is_(None), Consent.valid_from <= today,
        Consent.valid_until >= today).order_by(Consent.id.desc()).limit(500))  # fmt: skip
    return [(consent, subject) for consent, subject in rows]


# ------------------------------------------------------------------------------------ consent


def grant_consent(session: Session, account: SubjectAccount, *, institution_id: int | None, scope: list[str],
                  valid_until: date | None, settings: Settings, today: date) -> Consent:  # fmt: skip
    """The account's own subject authorises one institution; the subject is never taken from the request."""
    require_identity(account)
    if institution_id is None:
        raise InvalidInput(reason="请选择金融机构")
    institution = session.get(Institution, institution_id)
    if institution is None or not institution.is_active:
        raise NotFound(what="该金融机构")
    cleaned = rules.clean_scope(scope, scope_items(settings))
    cfg = config()
    if valid_until is None:
        raise InvalidInput(reason="请填写授权截止日期")
    if valid_until < today:
        raise InvalidInput(reason="授权截止日期不能早于今天")
    if valid_until > today + timedelta(days=cfg.max_consent_days):
        raise InvalidInput(reason=f"授权期限最长 {cfg.max_consent_days} 天")
    consent = Consent(subject_id=account.subject_id, institution_id=institution.id, account_id=account.id,
                      scope=cleaned, valid_from=today, valid_until=valid_until)  # fmt: skip
    session.add(consent)
    session.flush()
    audit.record(session, AuditAction.CONSENT_GRANTED, actor=_account_label(account), subject_id=account.subject_id,
                 target=f"consent:{consent.id}", details={"institution": institution.id, "scope": cleaned,
                                                          "valid_until": valid_until.isoformat()})  # fmt: skip
    return consent


def own_consent(session: Session, account: SubjectAccount, consent_id: int) -> Consent:
    require_identity(account)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.subject_id != account.subject_id:
        raise NotFound(what="该授权")
    return consent


def revoke_consent(session: Session, account: SubjectAccount, consent_id: int) -> Consent:
    """Takes effect at once: the next read under it is refused."""
    consent = own_consent(session, account, consent_id)
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
        audit.record(session, AuditAction.CONSENT_REVOKED, actor=_account_label(account), subject_id=consent.subject_id,
                     target=f"consent:{consent.id}")  # fmt: skip
    return consent


def consent_state(consent: Consent, today: date) -> str:
    if consent.revoked_at is not None:
        return "已撤回"
    if consent.valid_until < today:
        return "已过期"
    return "有效"


@dataclass(frozen=True)
class ConsentView:
    consent: Consent
    state: str
    scope_labels: list[str]
    accesses: list[ConsentAccess]


def consents_of(session: Session, account: SubjectAccount, *, settings: Settings, today: date) -> list[ConsentView]:
    require_identity(account)
    items = scope_items(settings)
    consents = list(session.scalars(select(Consent).where(Consent.subject_id == account.subject_id)
                                    .order_by(Consent.id.desc())))  # fmt: skip
    accesses: dict[int, list[ConsentAccess]] = defaultdict(list)
    if consents:
        for access in session.scalars(select(ConsentAccess).where(ConsentAccess.consent_id.in_([c.id for c in consents]))
                                      .order_by(ConsentAccess.id.desc())):  # fmt: skip
            accesses[access.consent_id].append(access)
    return [ConsentView(c, consent_state(c, today), [items.get(s, s) for s in c.scope], accesses[c.id])
            for c in consents]  # fmt: skip


def _refuse(session: Session, caller: Caller, subject_id: int | None, message: str) -> PermissionDenied:
    audit.record(session, AuditAction.CONSENT_READ_REFUSED, actor=caller.label, subject_id=subject_id,
                 details={"institution": caller.institution_id, "reason": message})  # fmt: skip
    return _KeptRefusal(message)


class _KeptRefusal(PermissionDenied):
    code = "consent-required"
    keeps_changes = True  # the refusal itself is recorded


def read_package(session: Session, caller: Caller, *, code: str, scope: list[str] | None, settings: Settings,
                 today: date) -> dict[str, Any]:  # fmt: skip
    """The data package of one subject: exactly the consented items (or the asked subset of them). Each read is
    recorded, a refused one too (its entry kept by the route, `keeps_changes`): it reads and then writes, so the
    routes run it as one writer's transaction (`UnitOfWork.write_in_thread`)."""
    try:
        code = validate_uscc(code)
    except CodeError:
        raise NotFound(what="该主体（请使用统一社会信用代码）") from None
    subject = session.scalar(select(Subject).where(Subject.uscc == code))
    if subject is None:
        raise NotFound(what="该主体")
    consent = session.scalar(select(Consent).where(
        Consent.subject_id == subject.id, Consent.institution_id == caller.institution_id, Consent.revoked_at.is_(None),
        Consent.valid_from <= today, Consent.valid_until >= today).order_by(Consent.id.desc()).limit(1))  # fmt: skip
    if consent is None:
        raise _refuse(session, caller, subject.id, "该主体未授权本机构查询，或授权已过期、已撤回")
    asked = consent.scope if not scope else [s.strip() for s in scope if s.strip()]
    beyond = [s for s in asked if s not in consent.scope]
    if beyond:
        raise _refuse(session, caller, subject.id, f"超出授权范围：{'、'.join(s[:40] for s in beyond[:5])}")
    package = build_package(session, subject, asked, settings=settings, today=today)
    session.add(ConsentAccess(consent_id=consent.id, key_prefix=caller.short, scope=list(asked)))
    audit.record(session, AuditAction.CONSENT_READ, actor=caller.label, subject_id=subject.id,
                 target=f"consent:{consent.id}", details={"institution": caller.institution_id, "scope": list(asked)})  # fmt: skip
    return {"subject": {"name": subject.name, "code": subject.uscc}, "consent": {
        "id": consent.id, "scope": list(asked), "valid_until": consent.valid_until.isoformat()}, "data": package}  # fmt: skip


def _records(session: Session, subject_id: int, record_types: tuple[str, ...] | list[str], *, settings: Settings,
             today: date, in_publication: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    """Active records of these types about the subject, public fields only (restricted ones are never shared)."""
    catalog = load_catalog(settings.catalog_dirs)
    types = {key: catalog.types[key] for key in record_types if key in catalog.types}
    if not types:
        return []
    query = select(Record).where(Record.subject_id == subject_id, Record.record_type.in_(list(types)),
                                 Record.status == RecordStatus.ACTIVE)  # fmt: skip
    if in_publication:
        query = query.where(or_(Record.publish_until.is_(None), Record.publish_until >= today))
    rows = []
    for record in session.scalars(query.order_by(Record.decision_date.desc()).limit(200)):
        rtype = types[record.record_type]
        titles = {f.code: f.title for f in rtype.public_fields}
        rows.append({"type": rtype.name, "doc_no": record.doc_no, "decision_date": record.decision_date.isoformat(),
                     "valid_until": record.valid_until.isoformat() if record.valid_until else None,
                     "fields": {titles[c]: str(v) for c, v in (record.payload or {}).items() if c in titles and v}})  # fmt: skip
    return rows


def build_package(session: Session, subject: Subject, scope: list[str], *, settings: Settings, today: date
                  ) -> dict[str, Any]:  # fmt: skip
    data: dict[str, Any] = {}
    catalog = load_catalog(settings.catalog_dirs)
    for item in scope:
        if item == "basics":
            data[item] = {"name": subject.name, "code": subject.uscc, "kind": subject.kind.value,
                          "legal_representative": subject.legal_representative}  # fmt: skip
        elif item == "licences":
            data[item] = _records(session, subject.id, catalog.positive_keys, settings=settings, today=today)
        elif item == "penalties":
            data[item] = _records(session, subject.id, catalog.negative_keys, settings=settings, today=today,
                                  in_publication=True)
        elif item == "lists":
            data[item] = [{"list": m.type_name, "nature": m.nature, "legal_basis": m.legal_basis,
                           "valid_from": m.valid_from.isoformat() if m.valid_from else None,
                           "valid_until": m.valid_until.isoformat() if m.valid_until else None}
                          for m in lists_service.memberships(session, [subject.id], today=today).get(subject.id, [])]  # fmt: skip
        elif item == "grade":
            grade = evaluation_service.latest_grade(session, subject.id, settings=settings)
            data[item] = ({"grade": grade.grade, "label": grade.label, "as_of": grade.as_of.isoformat()}
                          if grade else None)  # fmt: skip
        elif item.startswith(rules.RECORD_SCOPE_PREFIX):
            data[item] = _records(session, subject.id, [item.removeprefix(rules.RECORD_SCOPE_PREFIX)],
                                  settings=settings, today=today)  # fmt: skip
    return data


# ------------------------------------------------------------------------------------ demands


def post_demand(session: Session, account: SubjectAccount, *, amount: str, term_months: str, purpose: str,
                collateral: str, today: date) -> Demand:  # fmt: skip
    require_identity(account)
    cfg = config()
    value = rules.parse_amount(amount, what="融资金额", limit=cfg.max_amount)
    term = rules.parse_term(term_months, limit=cfg.max_term_months)
    if purpose not in cfg.purposes:
        raise InvalidInput(reason=f"请从 {'、'.join(cfg.purposes)} 中选择融资用途")
    collateral = clean_text(collateral, title="担保方式", max_length=200) or "无"
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    respond_by = load_calendar(session).add_workdays(today, cfg.service_level_workdays)
    demand = Demand(subject_id=subject.id, subject_name=subject.name, amount=value, term_months=term, purpose=purpose,
                    collateral=collateral, posted_on=today, respond_by=respond_by, status=DemandStatus.OPEN)  # fmt: skip
    session.add(demand)
    session.flush()
    audit.record(session, AuditAction.DEMAND_POSTED, actor=_account_label(account), subject_id=subject.id,
                 target=f"demand:{demand.id}", details={"amount": str(value), "term_months": term, "purpose": purpose})  # fmt: skip
    return demand


def demands_of(session: Session, account: SubjectAccount) -> list[Demand]:
    require_identity(account)
    return list(session.scalars(select(Demand).where(Demand.subject_id == account.subject_id)
                                .order_by(Demand.id.desc())))  # fmt: skip


def _matches(institution: Institution, demand: Demand) -> bool:
    return ((not institution.purposes or demand.purpose in institution.purposes)
            and institution.min_amount <= demand.amount <= institution.max_amount)  # fmt: skip


def matching_demands(session: Session, institution: Institution) -> list[Demand]:
    """Open demands matching the institution's products, and those it took itself."""
    rows = session.scalars(select(Demand).where(or_(Demand.status == DemandStatus.OPEN,
                                                    Demand.institution_id == institution.id))
                           .order_by(Demand.id.desc()).limit(500))  # fmt: skip
    return [d for d in rows if d.institution_id == institution.id or _matches(institution, d)]


def _demand_for(session: Session, institution: Institution, demand_id: int) -> Demand:
    demand = session.get(Demand, demand_id)
    if demand is None or not (demand.institution_id == institution.id
                              or (demand.status is DemandStatus.OPEN and _matches(institution, demand))):  # fmt: skip
        raise NotFound(what="该融资需求")
    return demand


def take_demand(session: Session, caller: Caller, demand_id: int, *, today: date) -> Demand:
    """抢单: one institution takes an open demand; a second take-up is refused (a conditional update)."""
    institution = caller.institution
    demand = _demand_for(session, institution, demand_id)
    if demand.institution_id == institution.id:
        raise InvalidTransition("本机构已受理该融资需求")
    taken = session.execute(update(Demand).where(Demand.id == demand.id, Demand.status == DemandStatus.OPEN.value)
                            .values(status=DemandStatus.TAKEN.value, institution_id=institution.id, taken_on=today)
                            .execution_options(synchronize_session=False))  # fmt: skip
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition("该融资需求已被其他机构受理")
    session.refresh(demand)
    audit.record(session, AuditAction.DEMAND_TAKEN, actor=caller.label, subject_id=demand.subject_id,
                 target=f"demand:{demand.id}", details={"institution": institution.id})  # fmt: skip
    return demand


def _day(text: str | None, what: str, *, today: date) -> date:
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(reason=f"{what}“{(text or '')[:20]}”不是有效日期（YYYY-MM-DD）") from None
    if value > today:
        raise InvalidInput(reason=f"{what}不能晚于今天")
    return value


def answer_demand(session: Session, caller: Caller, demand_id: int, *, outcome: str, credit_amount: str | None,
                  loan_amount: str | None, loan_date: str | None, reason: str | None, today: date) -> Demand:  # fmt: skip
    """The outcome of a taken demand: 授信 (credit), 放款 (loan, with amount and date) or refusal with reason."""
    institution = caller.institution
    demand = session.get(Demand, demand_id)
    if demand is None or demand.institution_id != institution.id:
        raise NotFound(what="该融资需求（只能反馈本机构受理的需求）")
    if demand.status not in (DemandStatus.TAKEN, DemandStatus.CREDITED):
        raise InvalidTransition(state=demand.status.label, action="反馈结果")
    cfg = config()
    if outcome == "credited":
        demand.credit_amount = rules.parse_amount(credit_amount or "", what="授信金额", limit=cfg.max_amount)
        demand.status = DemandStatus.CREDITED
    elif outcome == "loaned":
        demand.loan_amount = rules.parse_amount(loan_amount or "", what="放款金额", limit=cfg.max_amount)
        day = _day(loan_date, "放款日期", today=today)
        if demand.taken_on and day < demand.taken_on:
            raise InvalidInput(reason="放款日期不能早于受理日期")
        demand.loan_date = day
        if demand.credit_amount is None:
            demand.credit_amount = demand.loan_amount
        demand.status = DemandStatus.LOANED
    elif outcome == "refused":
        demand.refusal_reason = clean_text(reason, title="未获批原因", min_length=2, max_length=500)
        demand.status = DemandStatus.REFUSED
    else:
        raise InvalidInput(reason="结果须为 credited（授信）、loaned（放款）或 refused（未获批）")
    demand.answered_on = today
    audit.record(session, AuditAction.DEMAND_ANSWERED, actor=caller.label, subject_id=demand.subject_id,
                 target=f"demand:{demand.id}", details={"outcome": outcome})  # fmt: skip
    return demand


def is_overdue(demand: Demand, today: date) -> bool:
    """Unanswered past its service level: not taken, or taken and not answered, after `respond_by`."""
    return demand.status in (DemandStatus.OPEN, DemandStatus.TAKEN) and demand.respond_by < today


def overdue_demands(session: Session, today: date) -> list[Demand]:
    return list(session.scalars(select(Demand).where(
        Demand.status.in_([DemandStatus.OPEN.value, DemandStatus.TAKEN.value]), Demand.respond_by < today)
        .order_by(Demand.respond_by)))  # fmt: skip


@dataclass
class MonthStats:
    institution: str
    month: str
    taken: int = 0
    workdays_to_take: int = 0
    approved: int = 0
    refused: int = 0
    credit: Decimal = Decimal(0)
    loans: Decimal = Decimal(0)

    @property
    def mean_take_up(self) -> str:
        return f"{self.workdays_to_take / self.taken:.1f}" if self.taken else "—"


def statistics(session: Session) -> tuple[list[MonthStats], dict[str, int]]:
    """Per institution and month of take-up: demands taken, mean working days to take up, approvals, amounts;
    and the totals of demands by state."""
    calendar = load_calendar(session)
    names = {i.id: i.name for i in list_institutions(session)}
    table: dict[tuple[str, str], MonthStats] = {}
    totals: dict[str, int] = defaultdict(int)
    for demand in session.scalars(select(Demand)):
        totals[demand.status.label] += 1
        if demand.institution_id is None or demand.taken_on is None:
            continue
        name, month = names.get(demand.institution_id, "?"), demand.taken_on.strftime("%Y-%m")
        row = table.setdefault((name, month), MonthStats(name, month))
        row.taken += 1
        row.workdays_to_take += calendar.workdays_between(demand.posted_on, demand.taken_on)
        if demand.status in (DemandStatus.CREDITED, DemandStatus.LOANED):
            row.approved += 1
            row.credit += demand.credit_amount or 0
            row.loans += demand.loan_amount or 0
        elif demand.status is DemandStatus.REFUSED:
            row.refused += 1
    return [table[k] for k in sorted(table)], dict(totals)


# ------------------------------------------------------------------------------------ whitelist


def validate_rule(session: Session, rule: rules.WhitelistRule, *, settings: Settings) -> rules.WhitelistRule:
    run = evaluation_service.latest_run(session)
    known_grades = ({g for g, _label in evaluation_service.run_info(session, run.id, settings=settings).labels}
                    if run else set())  # fmt: skip
    if not rule.grades:
        raise InvalidInput(reason="请至少选择一个评价等级")
    if known_grades and not set(rule.grades) <= known_grades:
        raise InvalidInput(reason=f"未知的评价等级：{'、'.join(sorted(set(rule.grades) - known_grades))[:60]}")
    list_keys = set(session.scalars(select(ListType.key)))
    if not set(rule.require_lists) <= list_keys:
        raise InvalidInput(reason=f"未知的名单类型：{'、'.join(sorted(set(rule.require_lists) - list_keys))[:60]}")
    return rule


def whitelist_entries(session: Session, rule: rules.WhitelistRule, *, settings: Settings, today: date
                      ) -> list[dict[str, Any]]:  # fmt: skip
    run = evaluation_service.latest_run(session)
    if run is None:
        return []
    graded: dict[int, str] = dict(session.execute(
        select(EvaluationScore.subject_id, EvaluationScore.grade).where(
            EvaluationScore.run_id == run.id, EvaluationScore.grade.in_(rule.grades))).all())  # type: ignore[arg-type]  # fmt: skip
    ids = sorted(graded)
    members = lists_service.memberships(session, ids, today=today) if ids else {}
    negative_subjects: set[int] = set()
    if rule.exclude_negative and ids:
        negative_keys = load_catalog(settings.catalog_dirs).negative_keys
        for start in range(0, len(ids), 900):
            negative_subjects.update(session.scalars(select(Record.subject_id).where(
                Record.subject_id.in_(ids[start:start + 900]), Record.record_type.in_(negative_keys),
                Record.status == RecordStatus.ACTIVE, Record.publish_until >= today)))  # fmt: skip
    entries = []
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(ids)))} if ids else {}
    for subject_id in ids:
        subject = subjects.get(subject_id)
        if subject is None or not subject.uscc or subject.kind.value == "person":
            continue
        held = members.get(subject_id, [])
        if rule.exclude_negative and (subject_id in negative_subjects or any(m.nature in NEGATIVE_NATURES for m in held)):
            continue
        if rule.require_lists and not {m.type_key for m in held} >= set(rule.require_lists):
            continue
        entries.append({"code": subject.uscc, "name": subject.name, "grade": graded[subject_id]})
    return sorted(entries, key=lambda e: e["code"])


def current_rule(session: Session) -> rules.WhitelistRule:
    latest = latest_feed(session)
    return rules.WhitelistRule.from_dict(latest.rule) if latest else config().whitelist


def publish_whitelist(session: Session, *, rule: rules.WhitelistRule | None, settings: Settings, today: date,
                      actor: Actor) -> WhitelistFeed:  # fmt: skip
    checked, entries = prepare_whitelist(session, rule=rule, settings=settings, today=today)
    return store_whitelist(session, rule=checked, entries=entries, today=today, actor=actor)


def prepare_whitelist(session: Session, *, rule: rules.WhitelistRule | None, settings: Settings, today: date
                      ) -> tuple[rules.WhitelistRule, list[dict[str, Any]]]:  # fmt: skip
    """The rule, checked, and the entries it selects: reads only (every graded subject of the latest evaluation,
    seconds for a city), so that a caller can do them before it takes the write lock."""
    checked = validate_rule(session, rule or current_rule(session), settings=settings)
    return checked, whitelist_entries(session, checked, settings=settings, today=today)


def store_whitelist(session: Session, *, rule: rules.WhitelistRule, entries: list[dict[str, Any]], today: date,
                    actor: Actor) -> WhitelistFeed:  # fmt: skip
    """The next version of the feed, with the entries `prepare_whitelist` selected."""
    latest = latest_feed(session)
    feed = WhitelistFeed(version=(latest.version + 1) if latest else 1, as_of=today, rule=rule.as_dict(),
                         entries=entries, created_by=actor.label)  # fmt: skip
    session.add(feed)
    session.flush()
    audit.record(session, AuditAction.WHITELIST_PUBLISHED, actor=actor, target=f"whitelist:{feed.version}",
                 details={"entries": len(entries), "rule": rule.as_dict()})  # fmt: skip
    return feed


def latest_feed(session: Session) -> WhitelistFeed | None:
    return session.scalars(select(WhitelistFeed).order_by(WhitelistFeed.version.desc()).limit(1)).first()


def get_feed(session: Session, version: int | None) -> WhitelistFeed:
    feed = latest_feed(session) if version is None else session.scalar(
        select(WhitelistFeed).where(WhitelistFeed.version == version))  # fmt: skip
    if feed is None:
        raise NotFound(what="该版本的白名单" if version else "白名单（信用办尚未发布）")
    return feed


def feed_document(feed: WhitelistFeed) -> dict[str, Any]:
    return {"version": feed.version, "as_of": feed.as_of.isoformat(), "rule": feed.rule,
            "rule_text": rules.WhitelistRule.from_dict(feed.rule).describe(), "entries": feed.entries}  # fmt: skip


def feed_csv(feed: WhitelistFeed) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["版本", "日期", "统一社会信用代码", "主体名称", "评价等级"])
    for entry in feed.entries:
        writer.writerow([feed.version, feed.as_of.isoformat(), safe_cell(entry["code"]), safe_cell(entry["name"]),
                         safe_cell(entry["grade"])])  # never a formula in a spreadsheet
    return "\ufeff" + out.getvalue()


# ------------------------------------------------------------------------------------------- regions


def is_city_level(session: Session, actor: Actor) -> bool:
    """Whether the actor acts for the whole city (its 信用办, or any account on an install of one region)."""
    root = regions_service.tree(session).root
    return actor.scope is None or (root is not None and actor.region == root.code)


def ensure_city_level(session: Session, actor: Actor) -> None:
    """信易贷 and 信易+ are the city's: the institutions, their keys, the whitelist and the scenarios serve every
    county, so only the city's 信用办 changes them; a county's 信用办 reads them."""
    if not is_city_level(session, actor):
        raise PermissionDenied("信易贷与信易+由市级信用办统一维护")
