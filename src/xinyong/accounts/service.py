"""Use-cases of subject accounts: sign-up against a code, verification through the notifier, sign-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import SubjectAccount, SubjectSession, SubjectVerification
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth import passwords
from xinyong.auth import rules as auth_rules
from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import AlreadyExists, InvalidInput, NotAuthenticated
from xinyong.notify import service as notify
from xinyong.protect import Protector
from xinyong.records.models import Record, RecordStatus
from xinyong.repair import rules as repair_rules
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject

MAX_CODE_ATTEMPTS = 5
NO_MATCH = "代码与名称不匹配，或该主体尚未在平台登记信用信息"


class SignInFailed(NotAuthenticated):
    code = "subject-sign-in-failed"
    message_template = "代码或密码错误，或账户尚未完成验证"
    keeps_changes = True  # the failure is counted


class WrongCode(InvalidInput):
    code = "wrong-verification-code"
    keeps_changes = True  # the attempt is counted: five void the code


def _label(account: SubjectAccount) -> str:
    return f"subject-account:{account.id}"


def _code_hash(protector: Protector, account_id: int, code: str) -> str:
    return protector.lookup_hash(f"subject-verify:{account_id}:{code}")


def sign_up(session: Session, *, code: str, name: str, contact: str, password: str, protector: Protector,
            settings: Settings) -> SubjectAccount:  # fmt: skip
    """A new (unverified) account for the subject with this code, if the name agrees with the register; a
    verification code goes to the contact. Signing up again before verifying replaces contact and password
    (the earlier attempt never proved anything)."""
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    name = repair_rules.clean_text(name, title="名称", min_length=2, max_length=200)
    if subject is None or not subjects_service.names_agree(subject.name, name):
        raise InvalidInput(reason=NO_MATCH)  # one answer for both: whether a person is registered is private
    address = repair_rules.clean_email(contact, required=True)
    assert address is not None
    problems = auth_rules.password_problems(password, username="", min_length=settings.password_min_length)
    if problems:
        raise InvalidInput(reason="；".join(problems))
    account = session.scalar(select(SubjectAccount).where(SubjectAccount.subject_id == subject.id))
    if account is not None and account.is_verified:
        raise AlreadyExists("该主体已注册账户，请直接登录")
    if account is None:
        account = SubjectAccount(subject_id=subject.id, contact=address, password_hash="", is_verified=False,
                                 failed_logins=0)  # fmt: skip
        session.add(account)
    account.contact = address
    account.password_hash = passwords.hash_password(password)
    session.flush()  # the id is part of the code's hash and the audit target
    send_code(session, account, protector=protector, settings=settings)
    audit.record(session, AuditAction.SUBJECT_ACCOUNT_CREATED, actor=_label(account), subject_id=subject.id,
                 target=_label(account))  # fmt: skip
    return account


def send_code(session: Session, account: SubjectAccount, *, protector: Protector, settings: Settings) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    for old in session.scalars(select(SubjectVerification).where(SubjectVerification.account_id == account.id,
                                                                 SubjectVerification.used_at.is_(None))):  # fmt: skip
        old.used_at = utcnow()  # only the newest code is valid
    session.add(SubjectVerification(
        account_id=account.id, code_hash=_code_hash(protector, account.id, code), attempts=0,
        expires_at=utcnow() + timedelta(minutes=settings.verification_code_minutes),
    ))  # fmt: skip
    notify.message(session, address=account.contact, title="信用信息平台账户验证码",
                   body=f"您的验证码为 {code}，{settings.verification_code_minutes} 分钟内有效。如非本人操作，请忽略本邮件。")  # fmt: skip


def verify(session: Session, *, account_id: int, code: str, protector: Protector) -> SubjectAccount:
    """Wrong codes are counted (WrongCode keeps the count); five void the code."""
    account = session.get(SubjectAccount, account_id)
    if account is None:
        raise InvalidInput(reason="验证码无效，请重新注册")
    if account.is_verified:
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
    account.is_verified = True
    account.verified_at = utcnow()
    audit.record(session, AuditAction.SUBJECT_ACCOUNT_VERIFIED, actor=_label(account), subject_id=account.subject_id,
                 target=_label(account))  # fmt: skip
    return account


def sign_in(session: Session, *, code: str, password: str, protector: Protector, settings: Settings,
            client: str) -> tuple[SubjectSession, str]:  # fmt: skip
    """Failures are counted (SignInFailed keeps the count). Returns the session and its cookie value."""
    now = utcnow()
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    account = (session.scalar(select(SubjectAccount).where(SubjectAccount.subject_id == subject.id))
               if subject else None)  # fmt: skip
    if account is None or not account.is_verified:
        passwords.burn_time(password)
        raise SignInFailed()
    if account.locked_until is not None and account.locked_until > now:
        raise SignInFailed("连续登录失败次数过多，账户已临时锁定，请稍后再试")
    if not passwords.verify_password(account.password_hash, password):
        account.failed_logins += 1
        account.locked_until = auth_rules.lockout_until(account.failed_logins, now,
                                                        max_failures=settings.login_max_failures,
                                                        minutes=settings.login_lockout_minutes)  # fmt: skip
        raise SignInFailed()
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
    if row is None or row.ended_at is not None or row.expires_at <= utcnow() or not row.account.is_verified:
        return None
    return row


def end_session(row: SubjectSession) -> None:
    row.ended_at = row.ended_at or utcnow()


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
    (sealed at ingestion) opened: the subject may see everything about itself."""
    catalog = load_catalog(settings.catalog_dirs)
    rows = session.scalars(select(Record).where(Record.subject_id == account.subject_id,
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
