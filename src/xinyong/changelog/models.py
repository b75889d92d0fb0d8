from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class ChangeKind:
    CREATED = "created"
    UPDATED = "updated"
    REVOKED = "revoked"
    REPAIRED = "repaired"  # publication stopped by an approved credit repair
    RESTORED = "restored"  # publication resumed: the subject broke its repair commitment (违诺)

    ALL = (CREATED, UPDATED, REVOKED, REPAIRED, RESTORED)


class Change(Base):
    """One change of one record. `seq` is the commit sequence number of the transaction that wrote it (None
    until that transaction commits); the log's order is (seq, id)."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_seq_id", "seq", "id"),
        Index("ix_changes_type_seq_id", "record_type", "seq", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # The token of the writing transaction until it is sequenced (then cleared).
    txn: Mapped[str | None] = mapped_column(String(32), index=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)  # no foreign key: the log outlives nothing
    record_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeSequence(Base):
    """The last commit sequence number handed out (one row, id 1). Its row lock orders the commits."""

    __tablename__ = "change_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # The horizon: the last change deleted by pruning ((0, 0) while nothing was). A cursor before it names
    # changes that no longer exist; readers are told to synchronise again instead of silently missing them.
    pruned_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    pruned_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
