"""Use-cases of subject accounts: sign-up (a claim), contact confirmation, sign-in, and the identity proof
that alone lets an account act for its subject; disputes and revocation. Nothing here commits."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from xinyong import freetext
from xinyong.accounts import rules
from xinyong.accounts.models import AccountStatus, SubjectAccount, SubjectSession, SubjectVerification
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth import passwords, throttle
from xinyong.auth import rules as auth_rules
from xinyong.auth.service import ensure
from xinyong.catalog import load_catalog
from xinyong.codes import mask_if_id_like, normalize_code
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from xinyong.notify import service as notify
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject

MAX_CODE_ATTEMPTS = 5
NO_MATCH = "代码与名称不匹配，或该主体尚未在平台登记信用信息"


class SignInFailed(NotAuthenticated):
    code = "subject-sign-in-failed"
    message_template = "代码或密码错误，或账户尚未完成验证，或登录尝试过于频繁，请稍后再试"
    keeps_changes = True  # the failure (or the refused attempt) is counted and audited


class WrongCode(InvalidInput):
    code = "wrong-verification-code"
    keeps_changes = True  # the attempt is counted: five void the code


class IdentityNotVerified(PermissionDenied):
    code = "subject-identity-not-verified"
    message_template = ("本账户尚未完成主体身份核验：核验之前只能查看公开信息，不能查看受限信息和未公开的记录，"
                        "也不能以该主体的名义申请信用修复或提出异议。请先在“身份核验”页面完成核验。")  # fmt: skip


def _label(account: SubjectAccount) -> str:
    return f"subject-account:{account.id}"


def _code_hash(protector: Protector, account_id: int, code: str) -> str:
    return protector.lookup_hash(f"subject-verify:{account_id}:{code}")


# ---------------------------------------------------------------------------------- the guard


def require_identity(account: SubjectAccount) -> None:
    """The one check before anything that reads restricted data of the subject or acts in its name."""
    if not account.is_identity_verified:
        raise IdentityNotVerified()


def require_contact(account: SubjectAccount) -> None:
    """An identity step starts only from an active account whose contact is confirmed."""
    if not account.is_active or not account.contact_confirmed:
        raise PermissionDenied("该账户已停用或尚未确认电子邮箱，不能核验身份")


def acts_for(account: SubjectAccount | None, subject_id: int) -> bool:
    return account is not None and account.is_identity_verified and account.subject_id == subject_id


# ---------------------------------------------------------------------------------- sign-up


def sign_up(session: Session, *, code: str, name: str, contact: str, password: str, protector: Protector,
            settings: Settings) -> SubjectAccount:  # fmt: skip
    """A new claim on the subject with this code, if the name agrees with the register; a code goes to the
    contact to confirm it. Code and name are public, so a claim proves nothing and blocks no one: claims stand
    beside each other and beside a verified owner until one of them proves the subject's identity. Signing up
    again with the same address before confirming it replaces the password (that attempt proved nothing)."""
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    name = freetext.clean_text(name, title="名称", min_length=2, max_length=200)
    if subject is None or not subjects_service.names_agree(subject.name, name):
        raise InvalidInput(reason=NO_MATCH)  # one answer for both: whether a person is registered is private
    address = freetext.clean_email(contact, required=True)
    assert address is not None
    problems = auth_rules.password_problems(password, username="", min_length=settings.password_min_length)
    if problems:
        raise InvalidInput(reason="；".join(problems))
    account = session.scalar(select(SubjectAccount).where(
        SubjectAccount.subject_id == subject.id, SubjectAccount.contact == address,
        SubjectAccount.status == AccountStatus.ACTIVE))  # fmt: skip
    if account is not None and account.contact_confirmed:
        raise AlreadyExists("该电子邮箱已注册本主体的账户，请直接登录")
    if account is None:
        _close_oldest_claims(session, subject.id, settings)
        account = SubjectAccount(subject_id=subject.id, contact=address, password_hash="", contact_confirmed=False,
                                 failed_logins=0, status=AccountStatus.ACTIVE, identity_failures=0)  # fmt: skip
        session.add(account)
    account.password_hash = passwords.hash_password(password)
    session.flush()  # the id is part of the code's hash and the audit target
    send_code(session, account, protector=protector, settings=settings)
    audit.record(session, AuditAction.SUBJECT_ACCOUNT_CREATED, actor=_label(account), subject_id=subject.id,
                 target=_label(account))  # fmt: skip
    return account


def _close_oldest_claims(session: Session, subject_id: int, settings: Settings) -> None:
    """Unproven claims are bounded per subject: the oldest give way to a new one (a proven owner never does)."""
    claims = list(session.scalars(select(SubjectAccount).where(
        SubjectAccount.subject_id == subject_id, SubjectAccount.status == AccountStatus.ACTIVE,
        SubjectAccount.identity_verified_at.is_(None)).order_by(SubjectAccount.id)))  # fmt: skip
    while len(claims) >= settings.account_max_open_claims:
        _suspend(session, claims.pop(0), reason="同一主体未核验身份的账户过多，最早注册的账户已关闭",
                 action=AuditAction.SUBJECT_ACCOUNT_SUPERSEDED, actor="platform")  # fmt: skip


def send_code(session: Session, account: SubjectAccount, *, protector: Protector, settings: Settings) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    for old in session.scalars(select(SubjectVerification).where(SubjectVerification.account_id == account.id,
                                                                 SubjectVerification.used_at.is_(None))):  # fmt: skip
        old.used_at = utcnow()  # only the newest code is valid
    session.add(SubjectVerification(
        account_id=account.id, code_hash=_code_hash(protector, account.id, code), attempts=0,
        expires_at=utcnow() + timedelta(minutes=settings.verification_code_minutes),
    ))  # fmt: skip
    notify.message(session, address=account.contact, title="信用信息平台邮箱验证码",
                   body=f"您的验证码为 {code}，{settings.verification_code_minutes} 分钟内有效。此验证码只用于确认"
                        "电子邮箱，不能证明主体身份。如非本人操作，请忽略本邮件。")  # fmt: skip


def verify(session: Session, *, account_id: int, code: str, protector: Protector) -> SubjectAccount:
    """Confirms the contact (not the identity). Wrong codes are counted (WrongCode keeps the count); five void
    the code."""
    account = session.get(SubjectAccount, account_id)
    if account is None or not account.is_active:
        raise InvalidInput(reason="验证码无效，请重新注册")
    if account.contact_confirmed:
        return account
    pending = session.scalar(select(SubjectVerification).where(SubjectVerification.account_id == account.id,
                                                                SubjectVerification.used_at.is_(None))
                             .order_by(SubjectVerification.id.desc()))  # fmt: skip
    if pending is None or pending.expires_at <= utcnow() or pending.attempts >= MAX_CODE_ATTEMPTS:
        raise InvalidInput(reason="验证码已失效，请重新获取")
    given = (code or "").strip()[:12]
    if not hmac.compare_digest(pending.code_hash, _code_hash(protector, account.id, given)):
        pending.attempts += 1
        raise WrongCode(reason="验证码不正确")
    pending.used_at = utcnow()
    account.contact_confirmed = True
    account.contact_confirmed_at = utcnow()
    audit.record(session, AuditAction.SUBJECT_ACCOUNT_VERIFIED, actor=_label(account), subject_id=account.subject_id,
                 target=_label(account))  # fmt: skip
    return account


# ---------------------------------------------------------------------------------- sign-in


def _account_for_sign_in(session: Session, subject: Subject | None, password: str) -> SubjectAccount | None:
    """Which of the subject's accounts a sign-in is for. Several claims may share a code, so the password tells
    them apart; when none matches, the failure counts against the proven owner, else the newest claim."""
    if subject is None:
        return None
    candidates = list(session.scalars(select(SubjectAccount).where(
        SubjectAccount.subject_id == subject.id, SubjectAccount.status == AccountStatus.ACTIVE,
        SubjectAccount.contact_confirmed.is_(True),
    ).order_by(SubjectAccount.identity_verified_at.is_(None), SubjectAccount.id.desc())))  # fmt: skip
    if len(candidates) > 1:
        for account in candidates:
            if passwords.verify_password(account.password_hash, password):
                return account
    return candidates[0] if candidates else None


def sign_in(session: Session, *, code: str, password: str, protector: Protector, settings: Settings,
            client: str) -> tuple[SubjectSession, str]:  # fmt: skip
    """Throttled and audited as console sign-ins are (auth.throttle); failures are kept (SignInFailed keeps the
    transaction's changes). Raises SignInFailed, whatever went wrong. Returns the session and its cookie value."""
    now = utcnow()
    typed = normalize_code((code or "").strip()[:40])
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    account = _account_for_sign_in(session, subject, password)
    attempt = throttle.attempt(settings, surface="portal", client=client, account=typed,
                               owner=_label(account) if account else None)  # fmt: skip
    if account is not None:
        who = throttle.Who(actor=_label(account), target=_label(account), subject_id=account.subject_id)
    else:
        who = throttle.Who(actor="anonymous", details={"code": mask_if_id_like(typed), "known": False})
    refusal = throttle.check(session, attempt, now=now, who=who)
    if refusal is not None:
        if refusal.scope != throttle.CLIENT:
            passwords.burn_time(password)
        raise SignInFailed()
    if account is None or not account.contact_confirmed:
        passwords.burn_time(password)
        is_correct = False
    else:
        is_correct = passwords.verify_password(account.password_hash, password)
    if not is_correct:
        failure = throttle.fail(session, attempt, now=now, who=who)
        if account is not None:
            account.failed_logins, account.locked_until = failure.account_failures, failure.account_blocked_until
        raise SignInFailed()
    assert account is not None
    throttle.succeed(session, attempt)
    account.failed_logins, account.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    row = SubjectSession(token_hash=_token_hash(token), csrf_token=secrets.token_urlsafe(32), account_id=account.id,
                         expires_at=now + timedelta(hours=settings.subject_session_hours))  # fmt: skip
    session.add(row)
    audit.record(session, AuditAction.SUBJECT_SIGNED_IN, actor=_label(account), subject_id=account.subject_id,
                 target=_label(account), details={"client": client[:64]})  # fmt: skip
    return row, token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_session(session: Session, token: str) -> SubjectSession | None:
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(SubjectSession).where(SubjectSession.token_hash == _token_hash(token)))
    if (row is None or row.ended_at is not None or row.expires_at <= utcnow() or not row.account.contact_confirmed
            or not row.account.is_active):  # fmt: skip
        return None
    return row


def end_session(row: SubjectSession) -> None:
    row.ended_at = row.ended_at or utcnow()


def _end_sessions(session: Session, account: SubjectAccount) -> None:
    for row in session.scalars(select(SubjectSession).where(SubjectSession.account_id == account.id,
                                                            SubjectSession.ended_at.is_(None))):  # fmt: skip
        end_session(row)


# ---------------------------------------------------------------------------------- identity


def prove_identity(session: Session, account: SubjectAccount, *, method: str, details: dict[str, Any] | None = None
                   ) -> SubjectAccount:  # fmt: skip
    """What every identity method calls once its own proof has passed. A proven identity takes precedence: every
    other account of the subject, an unproven claim or an earlier owner, is suspended, its sessions end and its
    contact is told."""
    require_contact(account)
    if account.is_identity_verified:
        return account
    title = rules.METHOD_TITLES.get(method, method)
    others = session.scalars(select(SubjectAccount).where(
        SubjectAccount.subject_id == account.subject_id, SubjectAccount.id != account.id,
        SubjectAccount.status == AccountStatus.ACTIVE))  # fmt: skip
    for other in list(others):
        _suspend(session, other, reason=f"该主体已由其他账户通过{title}完成身份核验，本账户已停用",
                 action=AuditAction.SUBJECT_ACCOUNT_SUPERSEDED, actor=_label(account))  # fmt: skip
    session.flush()  # the earlier owner leaves the one-owner index before the new one enters it
    account.identity_method = method
    account.identity_verified_at = utcnow()
    account.identity_failures, account.identity_locked_until = 0, None
    audit.record(session, AuditAction.SUBJECT_IDENTITY_VERIFIED, actor=_label(account), subject_id=account.subject_id,
                 target=_label(account), details={"method": method, **(details or {})})  # fmt: skip
    notify.message(session, address=account.contact, title="信用主体身份核验已完成",
                   body=f"您的账户已通过{title}完成主体身份核验，可以查看本主体的全部信用信息并办理信用修复、异议。"
                        "如非本人操作，请立即联系信用办。")  # fmt: skip
    return account


def refuse_identity(session: Session, account: SubjectAccount, *, method: str, reason: str) -> None:
    """An identity proof that did not pass, kept in the audit trail (the caller raises an error that keeps it)."""
    audit.record(session, AuditAction.SUBJECT_IDENTITY_REFUSED, actor=_label(account), subject_id=account.subject_id,
                 target=_label(account), details={"method": method, "reason": reason})  # fmt: skip


def _suspend(session: Session, account: SubjectAccount, *, reason: str, action: AuditAction, actor: Actor | str,
             status: AccountStatus = AccountStatus.SUSPENDED) -> None:  # fmt: skip
    account.status = status
    account.status_reason = reason[:200]
    account.status_changed_at = utcnow()
    _end_sessions(session, account)
    audit.record(session, action, actor=actor, subject_id=account.subject_id, target=_label(account), reason=reason)
    notify.message(session, address=account.contact if account.contact_confirmed else None,
                   title="信用信息平台账户已停用",
                   body=f"您在信用信息平台注册的信用主体账户已停用：{reason}。如有疑问，请携带有效证件到信用办服务窗口咨询。")  # fmt: skip


def other_claims(session: Session, owner: SubjectAccount) -> list[SubjectAccount]:
    """Other active accounts claiming the owner's subject: shown to the proven owner only, to dispute them."""
    require_identity(owner)
    return list(session.scalars(select(SubjectAccount).where(
        SubjectAccount.subject_id == owner.subject_id, SubjectAccount.id != owner.id,
        SubjectAccount.status == AccountStatus.ACTIVE).order_by(SubjectAccount.id)))  # fmt: skip


def dispute_claim(session: Session, owner: SubjectAccount, *, claim_id: int) -> SubjectAccount:
    """The proven owner declares another account on its subject not its own: that account is suspended."""
    require_identity(owner)
    claim = session.get(SubjectAccount, claim_id)
    if claim is None or claim.subject_id != owner.subject_id or claim.id == owner.id or not claim.is_active:
        raise NotFound(what="该账户")
    _suspend(session, claim, reason="本主体已核验身份的账户申诉该账户并非本主体注册",
             action=AuditAction.SUBJECT_ACCOUNT_DISPUTED, actor=_label(owner))  # fmt: skip
    return claim


# ---------------------------------------------------------------------------------- the 信用办


def find_subject(session: Session, actor: Actor, *, code: str, protector: Protector) -> Subject:
    """The subject whose accounts staff look at, by any of its codes (an ID number is hashed for the look-up)."""
    ensure(actor, Permission.SUBJECT_ACCOUNTS_READ)
    subject = subjects_service.get_subject(session, (code or "").strip()[:40], protector)
    _ensure_visible(session, actor, subject.id)
    return subject


def _ensure_visible(session: Session, actor: Actor, subject_id: int) -> None:
    """A county's (or a department's) staff look at the accounts of subjects with records in their scope, or of
    none anywhere; a subject whose records are all another county's is not found (as in the console's subject
    pages). Accounts themselves are the platform's: one per person or organisation, whatever the county."""
    visible = records_service.visible_subjects(session, actor)
    if visible is not None and not session.scalar(select(exists().where(Subject.id == subject_id, visible))):
        raise NotFound(what="该信用主体")


def accounts_of(session: Session, actor: Actor, subject_id: int) -> tuple[Subject, list[SubjectAccount]]:
    ensure(actor, Permission.SUBJECT_ACCOUNTS_READ)
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(what="该信用主体")
    _ensure_visible(session, actor, subject.id)
    accounts = list(session.scalars(select(SubjectAccount).where(SubjectAccount.subject_id == subject.id)
                                    .order_by(SubjectAccount.id.desc())))  # fmt: skip
    return subject, accounts


def get_account(session: Session, actor: Actor, account_id: int) -> SubjectAccount:
    ensure(actor, Permission.SUBJECT_ACCOUNTS_READ)
    account = session.get(SubjectAccount, account_id)
    if account is None:
        raise NotFound(what="该信用主体账户")
    try:
        _ensure_visible(session, actor, account.subject_id)
    except NotFound:
        raise NotFound(what="该信用主体账户") from None
    return account


def _ensure_city(actor: Actor) -> None:
    """An account serves its subject on every county's site: withdrawing its proof or closing it is the city's."""
    if actor.scope is not None:
        raise PermissionDenied("撤销身份核验或注销主体账户由市级信用办办理")


def _reason(text: str) -> str:
    return freetext.clean_text(text, title="理由", min_length=4, max_length=200)


def revoke_identity(session: Session, account_id: int, *, actor: Actor, reason: str) -> SubjectAccount:
    """The 信用办 withdraws an identity proof: the account keeps its contact and may prove itself again."""
    ensure(actor, Permission.SUBJECT_ACCOUNTS_REVOKE)
    account = get_account(session, actor, account_id)  # another county's: not found
    _ensure_city(actor)
    reason = _reason(reason)
    if account.identity_verified_at is None or not account.is_active:
        raise InvalidInput(reason="该账户当前没有有效的身份核验")
    method = account.identity_method
    account.identity_verified_at, account.identity_method = None, None
    _end_sessions(session, account)
    audit.record(session, AuditAction.SUBJECT_IDENTITY_REVOKED, actor=actor, subject_id=account.subject_id,
                 target=_label(account), reason=reason, details={"method": method})  # fmt: skip
    notify.message(session, address=account.contact, title="信用主体身份核验已撤销",
                   body=f"信用办已撤销您账户的主体身份核验：{reason}。如需继续办理，请重新核验身份。")  # fmt: skip
    return account


def revoke_account(session: Session, account_id: int, *, actor: Actor, reason: str) -> SubjectAccount:
    """The 信用办 closes an account for good: no sign-in, no sessions; its history stays."""
    ensure(actor, Permission.SUBJECT_ACCOUNTS_REVOKE)
    account = get_account(session, actor, account_id)  # another county's: not found
    _ensure_city(actor)
    reason = _reason(reason)
    if account.status is AccountStatus.REVOKED:
        raise InvalidInput(reason="该账户已注销")
    _suspend(session, account, reason=reason, action=AuditAction.SUBJECT_ACCOUNT_REVOKED, actor=actor,
             status=AccountStatus.REVOKED)  # fmt: skip
    return account


# ---------------------------------------------------------------------------------- own records


@dataclass
class OwnRecord:
    record: Record
    type_name: str
    fields: list[tuple[str, str]]  # (title, value), restricted ones included
    restricted: list[tuple[str, str]]


def own_records(session: Session, account: SubjectAccount, *, settings: Settings, protector: Protector,
                limit: int = 200) -> list[OwnRecord]:  # fmt: skip
    """Every active record about the account's subject, published or not, with the restricted fields
    (sealed at ingestion) opened: the subject may see everything about itself, once its identity is proven."""
    require_identity(account)
    return subject_records(session, account.subject_id, settings=settings, protector=protector, limit=limit)


def subject_records(session: Session, subject_id: int, *, settings: Settings, protector: Protector,
                    limit: int = 200) -> list[OwnRecord]:  # fmt: skip
    """`own_records` for the platform itself (a report printed for the subject at the 信用办's counter): callers
    answer for having established that the subject asked."""
    catalog = load_catalog(settings.catalog_dirs)
    rows = session.scalars(select(Record).where(Record.subject_id == subject_id,
                                                Record.status == RecordStatus.ACTIVE)
                           .order_by(Record.decision_date.desc(), Record.id.desc()).limit(limit))  # fmt: skip
    result = []
    for record in rows:
        rtype = catalog.get(record.record_type)
        titles = {spec.code: spec.title for spec in rtype.fields}
        fields = [(titles.get(code, code), str(value)) for code, value in (record.payload or {}).items() if value]
        restricted: list[tuple[str, str]] = []
        if record.sealed:
            opened: dict[str, Any] = json.loads(protector.unseal(record.sealed))
            restricted = [(titles.get(code, code), str(value)) for code, value in opened.items() if value]
        result.append(OwnRecord(record, rtype.name, fields, restricted))
    return result


def subject_of(session: Session, account: SubjectAccount) -> Subject:
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    return subject


def own_record(session: Session, account: SubjectAccount, record_id: int) -> Record:
    """A record of the account's own subject; any other record does not exist for this account. Only an
    identity-verified account has own records (IdentityNotVerified otherwise)."""
    require_identity(account)
    record = session.get(Record, record_id)
    if record is None or record.subject_id != account.subject_id:
        raise NotFound(what="该信用记录")
    return record
