"""信易贷 tables: institutions and their keys, consents and every access made under them, financing demands,
whitelist rules and the dated, versioned whitelist feeds."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Institution(Base):
    """A bank or other financial institution registered by the 信用办. It reads subjects' data only under their
    consent, through its own keys."""

    __tablename__ = "finance_institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(String(200))
    # Products, for matching demands: the purposes it lends for and its amount range (万元).
    purposes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    max_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(100000))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstitutionKey(Base):
    """A key of an institution's system; only a SHA-256 of the secret is kept (as for departments' keys)."""

    __tablename__ = "finance_institution_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("finance_institutions.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()


class InstitutionUser(Base):
    """A console account of the role 金融机构信贷员, acting for one institution."""

    __tablename__ = "finance_institution_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("finance_institutions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution] = relationship()


class Consent(Base):
    """A subject's authorisation (授权) of one institution to read a named scope of its data for a period."""

    __tablename__ = "finance_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("finance_institutions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("subject_accounts.id"))
    scope: Mapped[list[str]] = mapped_column(JSONType)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)  # last day it may be used
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()


class ConsentAccess(Base):
    """One read made under a consent: what was asked, what was returned, by which key."""

    __tablename__ = "finance_consent_accesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("finance_consents.id"), index=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[list[str]] = mapped_column(JSONType)
    accessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DemandStatus(enum.StrEnum):
    OPEN = "open"  # posted, nobody took it yet
    TAKEN = "taken"  # an institution took it (抢单) and is handling it
    CREDITED = "credited"  # 授信
    LOANED = "loaned"  # 放款
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return {"open": "待受理", "taken": "已受理", "credited": "已授信", "loaned": "已放款", "refused": "未获批",
                "withdrawn": "已撤回"}[self.value]  # fmt: skip


class Demand(Base):
    """A financing need posted by an enterprise (融资需求)."""

    __tablename__ = "finance_demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(40))
    collateral: Mapped[str] = mapped_column(String(200))  # "无" when none
    posted_on: Mapped[date] = mapped_column(Date)
    respond_by: Mapped[date] = mapped_column(Date)  # the service level, in working days
    status: Mapped[DemandStatus] = mapped_column(_enum(DemandStatus), default=DemandStatus.OPEN)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("finance_institutions.id"), index=True)
    taken_on: Mapped[date | None] = mapped_column(Date)
    credit_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    loan_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    loan_date: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    institution: Mapped[Institution | None] = relationship()


class WhitelistFeed(Base):
    """One published version of the whitelist: the rule it applied, the day, and its entries."""

    __tablename__ = "finance_whitelist_feeds"
    __table_args__ = (UniqueConstraint("version", name="uq_finance_whitelist_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    rule: Mapped[dict[str, Any]] = mapped_column(JSONType)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
