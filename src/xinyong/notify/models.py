from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class OutboxItem(Base):
    """One message to a person (topic ``message``) or one change event for sharing systems
    (topic ``change.*``), waiting for delivery after its transaction committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Topics with a delivery handler of their own (webhooks): not tried again before this (back-off), and set
    # aside for good once their attempts run out (parked), until an operator resumes them.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxItem(Base):
    """A message in a console user's inbox, written when its outbox item (topic ``inbox``) is delivered.
    `ref` names what it is about ("alert:12"): closing that thing closes its messages."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    ref: Mapped[str | None] = mapped_column(String(60), index=True)
    outbox_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # delivered at least once: kept once
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
