"""Sign-in throttling (登录限流), the same for the console and the subject portal.

The policy (settings in docs/configuration.md):
- per (client address, account name): after `login_max_failures` consecutive failures each attempt must wait a
  delay that doubles with every further failure, up to `login_client_account_max_delay_minutes`;
- per account name, from all clients together: the same back-off, capped at `login_account_max_delay_seconds`.
  The cap is short on purpose: an attacker hammering an account (the administrator's) from one address is soon
  refused by the pair rule before reaching the account, so the account's own delay runs out within seconds
  and the owner, from another address, gets in;
- per client address: `login_rate_limit_attempts` failed or refused attempts per window, whatever the names.

Unknown names are throttled exactly like real ones (the state is keyed by the name as typed, not by an account
row), so no answer, status or delay tells an existing account from a missing one; the caller answers every
refusal as it answers a wrong password.

The state lives in the database (`login_throttles`), not in a server process: with several processes (or
after a restart) the counts are the same. A failed attempt costs an Argon2 verification already, next to which
these few row writes are small.

Audit: every failure is recorded, unknown names included (masked when they look like an ID number; passwords
never). Refused attempts are recorded once per delay, with the number refused since the last record, so a flood
cannot fill the audit trail faster than the delays grow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth import rules
from xinyong.auth.models import LoginThrottle
from xinyong.config import Settings
from xinyong.protect import protector

CLIENT, PAIR, ACCOUNT = "client", "pair", "account"


@dataclass(frozen=True)
class Policy:
    free: int
    first: timedelta
    pair_cap: timedelta
    account_cap: timedelta
    client_limit: int
    client_window: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(free=settings.login_max_failures, first=timedelta(seconds=settings.login_delay_seconds),
                   pair_cap=timedelta(minutes=settings.login_client_account_max_delay_minutes),
                   account_cap=timedelta(seconds=settings.login_account_max_delay_seconds),
                   client_limit=settings.login_rate_limit_attempts,
                   client_window=timedelta(minutes=settings.login_rate_limit_window_minutes))  # fmt: skip

    def delay(self, scope: str, failures: int) -> timedelta:
        cap = self.pair_cap if scope == PAIR else self.account_cap
        return rules.login_delay(failures, free=self.free, first=self.first, cap=cap)

    @property
    def forget_after(self) -> timedelta:
        return max(rules.FORGET_LOGIN_FAILURES_AFTER, self.pair_cap, self.account_cap, self.client_window)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: a client address trying an account name on one surface ("admin", "portal")."""

    client: str
    client_key: str
    pair_key: str
    account_key: str
    owner: str | None  # "user:12" when the name is an account's: lets an administrator lift its delays
    policy: Policy

    def scoped_keys(self) -> list[tuple[str, str]]:
        keys = [(PAIR, self.pair_key), (ACCOUNT, self.account_key)]
        return [(CLIENT, self.client_key), *keys] if self.policy.client_limit > 0 else keys


def attempt(settings: Settings, *, surface: str, client: str, account: str, owner: str | None) -> Attempt:
    hashed = protector(settings).lookup_hash
    client = client[:64]
    return Attempt(client=client, client_key=hashed(f"login:{surface}:client:{client}"),
                   pair_key=hashed(f"login:{surface}:pair:{client}\n{account}"),
                   account_key=hashed(f"login:{surface}:account:{account}"), owner=owner,
                   policy=Policy.from_settings(settings))  # fmt: skip


@dataclass(frozen=True)
class Who:
    """How the attempt appears in the audit trail."""

    actor: str
    target: str | None = None
    department_id: int | None = None
    subject_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    scope: str
    until: datetime


@dataclass(frozen=True)
class Failure:
    account_failures: int
    account_blocked_until: datetime | None


def _audit(session: Session, action: AuditAction, who: Who, details: dict[str, Any]) -> None:
    audit.record(session, action, actor=who.actor, department_id=who.department_id, subject_id=who.subject_id,
                 target=who.target, details={**who.details, **details})  # fmt: skip


def _locked_row(session: Session, key: str, scope: str, owner: str | None, now: datetime,
                policy: Policy) -> LoginThrottle:  # fmt: skip
    """The row for `key`, locked for this transaction (PostgreSQL; SQLite has one writer anyway), created or
    restarted when missing or forgotten."""
    stmt = (select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
            .execution_options(populate_existing=True))  # fmt: skip
    row = session.scalar(stmt)
    if row is None:
        try:
            with session.begin_nested():
                row = LoginThrottle(key=key, scope=scope, owner=owner, failures=0, window_start=now,
                                    refused=0, updated_at=now)  # fmt: skip
                session.add(row)
                session.flush()  # a concurrent first failure may have created it: then use that one
        except IntegrityError:
            row = session.scalars(stmt).one()
    elif row.updated_at <= now - policy.forget_after:
        row.failures, row.refused, row.window_start = 0, 0, now
        row.blocked_until = row.audited_until = None
    return row


def _count_for_client(session: Session, attempt: Attempt, now: datetime) -> None:
    policy = attempt.policy
    if policy.client_limit <= 0:
        return
    row = _locked_row(session, attempt.client_key, CLIENT, None, now, policy)
    if now >= row.window_start + policy.client_window:
        row.window_start, row.failures, row.blocked_until = now, 0, None
    row.failures += 1
    row.updated_at = now
    if row.failures >= policy.client_limit:
        row.blocked_until = row.window_start + policy.client_window


def _back_off(session: Session, attempt: Attempt, scope: str, key: str, now: datetime) -> LoginThrottle:
    row = _locked_row(session, key, scope, attempt.owner, now, attempt.policy)
    row.failures += 1
    row.updated_at = now
    delay = attempt.policy.delay(scope, row.failures)
    row.blocked_until = now + delay if delay else None
    return row


def check(session: Session, attempt: Attempt, *, now: datetime, who: Who) -> Refusal | None:
    """The delay that refuses this attempt, if one runs (client first, then pair, then account); a refusal is
    counted against the client and audited once per delay."""
    keys = attempt.scoped_keys()
    rows = {row.key: row for row in session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_([key for _, key in keys])))}  # fmt: skip
    for scope, key in keys:
        row = rows.get(key)
        if row is None or row.updated_at <= now - attempt.policy.forget_after:
            continue
        if row.blocked_until is None or row.blocked_until <= now:
            continue
        row = _locked_row(session, key, scope, row.owner, now, attempt.policy)
        if row.blocked_until is None or row.blocked_until <= now:  # another process moved it meanwhile
            continue
        row.refused += 1
        row.updated_at = now
        if row.audited_until != row.blocked_until:
            _audit(session, AuditAction.LOGIN_THROTTLED, who, {
                "client": attempt.client, "scope": scope, "until": row.blocked_until.isoformat(),
                "refused": row.refused})  # fmt: skip
            row.audited_until, row.refused = row.blocked_until, 0
        until = row.blocked_until
        if scope != CLIENT:
            _count_for_client(session, attempt, now)
        return Refusal(scope, until)
    return None


def fail(session: Session, attempt: Attempt, *, now: datetime, who: Who) -> Failure:
    """A wrong password (or an unknown or disabled account): counted in all three scopes, audited."""
    _count_for_client(session, attempt, now)
    pair = _back_off(session, attempt, PAIR, attempt.pair_key, now)
    account = _back_off(session, attempt, ACCOUNT, attempt.account_key, now)
    delays = [row.blocked_until - now for row in (pair, account) if row.blocked_until]
    _audit(session, AuditAction.LOGIN_FAILED, who, {
        "client": attempt.client, "failures": account.failures, "failures_from_client": pair.failures,
        "delay_seconds": int(max(delays).total_seconds()) if delays else 0})  # fmt: skip
    session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - attempt.policy.forget_after))
    return Failure(account.failures, account.blocked_until)


def succeed(session: Session, attempt: Attempt) -> None:
    """A correct password ends the account's and this pair's delays (the client's window keeps counting)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([attempt.pair_key, attempt.account_key])))


def forget_account(session: Session, owner: str) -> int:
    """Lift every delay on an account, from every client (an administrator's unlock)."""
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.owner == owner))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
