"""Activation codes (激活码): the default way a subject account proves whose account it is.

Staff of the 信用办 or of a department, having checked the applicant's papers at a service counter (or
writing to the contact in the subject register), issue a code bound to one subject. The code is shown once;
only a keyed hash is kept. The claimant enters it on the portal. A code expires, serves once, and a newer one
voids the older. Entries are throttled per account here (in the database) and per client address by the
caller; 80 random bits leave nothing to guess even so."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from xinyong.accounts import rules
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import ActivationCode, SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure
from xinyong.clock import CHINA
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

METHOD = "activation_code"


class TooManyAttempts(DomainError):
    code = "too-many-attempts"
    status_code = 429
    message_template = "激活码错误次数过多，请于 {until} 后再试"


class WrongActivationCode(InvalidInput):
    code = "wrong-activation-code"
    keeps_changes = True  # the wrong entry is counted towards the account's wait


def _hash(protector: Protector, subject_id: int, normalized: str) -> str:
    return protector.lookup_hash(f"subject-activation:{subject_id}:{normalized}")


def issue(session: Session, *, subject_id: int, actor: Actor, channel: str, settings: Settings,
          protector: Protector) -> tuple[ActivationCode, str]:  # fmt: skip
    """A new code for the subject, returned in clear this once. Department staff issue codes only for subjects
    their department has records about; the 信用办 for any subject."""
    ensure(actor, Permission.SUBJECT_ACCOUNTS_ACTIVATE)
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(what="该信用主体")
    if channel not in rules.ACTIVATION_CHANNELS:
        raise InvalidInput(reason="请选择激活码的交付方式")
    visible = records_service.visible_subjects(session, actor)
    if visible is not None and not session.scalar(select(exists().where(Subject.id == subject.id, visible))):
        raise NotFound(what="该信用主体")  # all its records are another county's
    clause = actor.reach(Record.department_id, Record.created_at)
    if clause is not None and not session.scalar(select(exists().where(Record.subject_id == subject.id, clause))):
        raise PermissionDenied("部门只能为本部门有信用记录的主体签发激活码" if actor.is_department_bound
                               else "只能为本行政区划内有信用记录的主体签发激活码")  # fmt: skip
    now = utcnow()
    for old in session.scalars(select(ActivationCode).where(
            ActivationCode.subject_id == subject.id, ActivationCode.used_at.is_(None),
            ActivationCode.voided_at.is_(None))):  # fmt: skip
        old.voided_at = now
    code = rules.new_activation_code()
    normalized = rules.normalize_activation_code(code)
    assert normalized is not None
    row = ActivationCode(subject_id=subject.id, code_hash=_hash(protector, subject.id, normalized), channel=channel,
                         issued_by=actor.label[:100], issued_at=now,
                         expires_at=now + timedelta(days=settings.activation_code_days))  # fmt: skip
    session.add(row)
    session.flush()  # the id is the audit target
    audit.record(session, AuditAction.SUBJECT_ACTIVATION_ISSUED, actor=actor, subject_id=subject.id,
                 target=f"activation-code:{row.id}",
                 details={"channel": channel, "expires_at": row.expires_at.isoformat()})  # fmt: skip
    return row, code


def codes_for(session: Session, subject_id: int) -> list[ActivationCode]:
    return list(session.scalars(select(ActivationCode).where(ActivationCode.subject_id == subject_id)
                                .order_by(ActivationCode.id.desc()).limit(20)))  # fmt: skip


def redeem(session: Session, account: SubjectAccount, *, code: str, settings: Settings, protector: Protector
           ) -> SubjectAccount:  # fmt: skip
    """Proves the account's identity with a code issued for its subject. Wrong entries are counted
    (WrongActivationCode keeps the count); too many make the account wait."""
    now = utcnow()
    if account.is_identity_verified:
        return account
    if account.identity_locked_until is not None and account.identity_locked_until > now:
        raise TooManyAttempts(until=_china_time(account.identity_locked_until))
    normalized = rules.normalize_activation_code(code)
    row = None
    if normalized is not None:
        wanted = _hash(protector, account.subject_id, normalized)
        row = session.scalar(select(ActivationCode).where(ActivationCode.subject_id == account.subject_id,
                                                          ActivationCode.code_hash == wanted))  # fmt: skip
        if row is not None and not hmac.compare_digest(row.code_hash, wanted):
            row = None
    if row is None:
        _count_failure(session, account, settings=settings, now=now)
        raise WrongActivationCode(reason="激活码不正确，请核对后重新输入")
    # The holder of a real code learns why it no longer works; that tells a guesser nothing.
    if row.used_at is not None:
        raise InvalidInput(reason="该激活码已使用，每个激活码只能使用一次")
    if row.voided_at is not None:
        raise InvalidInput(reason="该激活码已作废（此后已签发新的激活码），请使用最新的激活码")
    if row.expires_at <= now:
        raise InvalidInput(reason="该激活码已过期，请到信用办或部门服务窗口重新申领")
    row.used_at = now
    row.used_by_account_id = account.id
    return accounts_service.prove_identity(session, account, method=METHOD, details={"activation_code": row.id})


def _count_failure(session: Session, account: SubjectAccount, *, settings: Settings, now: datetime) -> None:
    account.identity_failures = (account.identity_failures or 0) + 1
    if account.identity_failures >= settings.activation_max_failures:
        account.identity_failures = 0
        account.identity_locked_until = now + timedelta(minutes=settings.activation_lockout_minutes)
        audit.record(session, AuditAction.SUBJECT_ACTIVATION_FAILED, actor=f"subject-account:{account.id}",
                     subject_id=account.subject_id, target=f"subject-account:{account.id}",
                     details={"locked_minutes": settings.activation_lockout_minutes})  # fmt: skip


def _china_time(value: datetime) -> str:
    return value.astimezone(CHINA).strftime("%H:%M")
