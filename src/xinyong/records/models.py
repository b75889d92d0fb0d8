from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow
from xinyong.subjects.models import SubjectKind


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


CATEGORIES_LENGTH = 200


class RecordStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class BatchStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # the file itself was rejected; nothing was stored
    INCOMPLETE = "incomplete"  # interrupted; what was committed stays, re-running is safe


class BatchSource(enum.StrEnum):
    CLI = "cli"
    API = "api"
    UPLOAD = "upload"
    DEMO = "demo"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("department_id", "record_type", "doc_no"),
        # A subject's published records are counted on every code look-up and profile. This index holds every
        # column the publication clause reads (PostgreSQL also carries the id, for the repair stops), so the
        # count touches one index page instead of a table page per record.
        Index(
            "ix_records_subject_published",
            "subject_id",
            "record_type",
            "decision_date",
            "status",
            "publish_until",
            "tier",
            "department_id",
            "categories",
            postgresql_include=["id"],
        ),
        # The public listing of a type, newest first (decision date, then id: the page is the index's order and
        # stops at its limit), and its capped count with a date filter. On PostgreSQL the index also carries
        # every column the publication clause reads, the subject's kind included, so the count is an index-only
        # scan of the filter's date range, with no bitmap of every record still within its period and no read
        # of `subjects` (performance.md, Scale). SQLite has no INCLUDE.
        Index(
            "ix_records_type_decision",
            "record_type",
            "decision_date",
            "id",
            postgresql_include=["subject_id", "status", "publish_until", "tier", "department_id", "categories",
                                "subject_kind"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doc_no: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    subject_name: Mapped[str] = mapped_column(String(200))
    # The subject's kind, kept in step with `subjects.kind` (set where records are written or moved to another
    # subject): the public listing counts the records it may show (never natural persons') without reading
    # every subject.
    subject_kind: Mapped[SubjectKind] = mapped_column(_enum(SubjectKind, length=24))
    status: Mapped[RecordStatus] = mapped_column(_enum(RecordStatus), default=RecordStatus.ACTIVE)
    decision_date: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Publication window decided at ingestion from the catalogue's publicity rule; the portal filters on it.
    tier: Mapped[str | None] = mapped_column(String(16))
    publish_until: Mapped[date | None] = mapped_column(Date, index=True)
    # The record's categories as published (the catalogue field with role "categories", ';'-joined), copied out
    # of the payload so that the publication rules on warnings read the index rather than the payload.
    categories: Mapped[str | None] = mapped_column(String(CATEGORIES_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sealed: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordVersion(Base):
    """An earlier state of a record, kept when a department corrects or revokes it."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[RecordStatus] = mapped_column(_enum(RecordStatus))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    sealed: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_by: Mapped[str] = mapped_column(String(16))  # "update" | "revoke"


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(32))
    source: Mapped[BatchSource] = mapped_column(_enum(BatchSource))
    filename: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_format: Mapped[str | None] = mapped_column(String(8))
    encoding: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.RUNNING)
    reported_on: Mapped[date] = mapped_column(Date)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(String(500))
    # Problems counted but not stored one by one (over the caps): [{severity, code, column, count}, …].
    omitted_problems: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BatchProblem(Base):
    __tablename__ = "batch_problems"
    # A batch's report is read in (row, id) order, a page at a time.
    __table_args__ = (Index("ix_batch_problems_batch_row", "batch_id", "row", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, 8))
    row: Mapped[int] = mapped_column(Integer)  # 0 for problems of the whole file
    column: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(48))
    value: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(500))
