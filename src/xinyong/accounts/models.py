"""Subject accounts (信用主体账户), their identity proofs, and their portal sessions.

An account moves through two separate proofs:
- the contact is confirmed (`contact_confirmed`): a code sent to the address came back. This proves that the
  claimant reads that mailbox, nothing about who the claimant is;
- the identity of the subject is proven (`identity_verified_at`, `identity_method`): an activation code issued
  by the 信用办 or a department, or the province's identity service, says the claimant is the subject.
Only an identity-verified, active account acts for its subject (restricted fields, unpublished records,
repairs, objections). Several accounts may claim one subject; at most one of them is identity-verified and
active at a time (a partial unique index holds it).
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.db import Base, UTCDateTime, utcnow
from xinyong.subjects.models import Subject


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # superseded by a proven owner, or disputed by the verified owner
    REVOKED = "revoked"  # closed by the 信用办

    @property
    def label(self) -> str:
        return {"active": "正常", "suspended": "已停用", "revoked": "已注销"}[self.value]


_OWNER_CLAUSE = "identity_verified_at IS NOT NULL AND status = 'active'"


class SubjectAccount(Base):
    __tablename__ = "subject_accounts"
    __table_args__ = (
        # One proven owner per subject; any number of unproven claims beside it.
        Index("uq_subject_accounts_owner", "subject_id", unique=True, sqlite_where=text(_OWNER_CLAUSE),
              postgresql_where=text(_OWNER_CLAUSE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    contact: Mapped[str] = mapped_column(String(200))  # e-mail address the notifier writes to
    password_hash: Mapped[str] = mapped_column(String(200))
    contact_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    contact_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=AccountStatus.ACTIVE, server_default=AccountStatus.ACTIVE.value,
    )  # fmt: skip
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_method: Mapped[str | None] = mapped_column(String(30))
    identity_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identity_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    identity_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subject: Mapped[Subject] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def is_identity_verified(self) -> bool:
        """Whether this account may act for its subject now."""
        return self.is_active and self.contact_confirmed and self.identity_verified_at is not None


class SubjectVerification(Base):
    """A one-time code sent to the account's contact; only its hash is kept. Confirms the contact only."""

    __tablename__ = "subject_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("subject_accounts.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivationCode(Base):
    """An activation code (激活码) issued by staff for one subject, handed over at a service counter or sent by
    post to the registered contact. Only a keyed hash bound to the subject is kept; single use; the newest
    unused code of a subject voids the earlier ones."""

    __tablename__ = "subject_activation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))  # counter | post
    issued_by: Mapped[str] = mapped_column(String(100))  # the actor's audit label
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("subject_accounts.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubjectSession(Base):
    """A portal sign-in of a subject account; the cookie holds a random token, only its hash is stored."""

    __tablename__ = "subject_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("subject_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[SubjectAccount] = relationship()
