from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class Destination(Base):
    """A platform the exports are sent to (the provincial platform …), with the position of the change log its
    last export reached: the next export without --since starts there."""

    __tablename__ = "exchange_destinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    cursor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)
    exports: Mapped[int] = mapped_column(Integer, default=0)
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Webhook(Base):
    """A partner's endpoint that the change feed is pushed to, signed with a secret of its own (sealed at rest).
    It belongs to a feed key and sees what that key sees; `seq`/`last_id` is how far it has been sent."""

    __tablename__ = "exchange_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_sealed: Mapped[str] = mapped_column(Text)
    types: Mapped[list[str] | None] = mapped_column(JSONType)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed deliveries
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListEdition(Base):
    """One edition of a list sent down (失信被执行人 from the courts …), applied wholesale: entries of its type
    imported through its department that the edition no longer holds were ended when it was applied."""

    __tablename__ = "exchange_list_editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_type_id: Mapped[int] = mapped_column(ForeignKey("list_types.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    source: Mapped[str] = mapped_column(String(200))
    edition_on: Mapped[date] = mapped_column(Date)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("list_imports.id"))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    ended: Mapped[int] = mapped_column(Integer, default=0)
    in_review: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListReview(Base):
    """A row of an edition whose subject could not be matched for certain (an old code, a name that does not
    agree, several candidates): held back until someone names the subject or dismisses it. Codes here are
    organisations' legacy codes, never ID numbers (rows of persons are matched by their ID number)."""

    __tablename__ = "exchange_list_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("exchange_list_editions.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40))
    doc_no: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(300))
    candidates: Mapped[list[int] | None] = mapped_column(JSONType)  # subject ids
    values: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the row as read, by header
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | applied | dismissed
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
