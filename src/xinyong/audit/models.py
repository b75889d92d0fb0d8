from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_created", "actor", "created_at"),
        Index("ix_audit_entries_department_created", "department_id", "created_at"),
        Index("ix_audit_entries_subject_id", "subject_id"),
    )

    # seq is the chain position: dense, from 1, assigned under the chain lock (ids may have gaps).
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    target: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The audit key that signed the entry (its fingerprint); None for entries written before the chain was keyed,
    # whose hash is an unkeyed SHA-256 (see rules).
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditChainHead(Base):
    """One row (id 1): the last position and hash of the chain. Updating it first in every append takes
    a row lock on PostgreSQL (and the write lock on SQLite), which serialises appenders; it also lets
    `verify` notice entries deleted from the end."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_key_id: Mapped[str | None] = mapped_column(String(16))  # a change of key starts a new keyed segment
