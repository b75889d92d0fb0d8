from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime


class JobRun(Base):
    """One run of a scheduled job: who ran it, when, and how it ended (`running`, `ok`, `failed`)."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    message: Mapped[str | None] = mapped_column(Text)


class JobLock(Base):
    """Who may run a job now: the holder until `lease_until`. A row per job, taken with one conditional UPDATE,
    so that it works the same on SQLite and PostgreSQL; a worker that dies leaves a lease that runs out.
    It also keeps the job's tallies (runs by outcome, the last success), which /metrics reads without counting
    the runs."""

    __tablename__ = "job_locks"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_id: Mapped[int | None] = mapped_column(Integer)
    runs_ok: Mapped[int] = mapped_column(Integer, default=0)
    runs_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
