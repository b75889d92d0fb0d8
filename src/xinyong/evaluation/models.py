from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"running": "进行中", "completed": "已完成", "failed": "失败"}[self.value]


class ScoringModel(Base):
    """One loaded version of an evaluation model: its file as loaded, never changed afterwards."""

    __tablename__ = "evaluation_models"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # the TOML text as loaded
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the text
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationRun(Base):
    """One evaluation of every subject of the model's kinds as of a date."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("evaluation_models.id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING.value)
    actor: Mapped[str] = mapped_column(String(100))
    previous_run_id: Mapped[int | None] = mapped_column(Integer)  # the run grade changes are counted against
    subjects: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    grade_counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    digest: Mapped[str | None] = mapped_column(String(64))  # sha256 over (subject, score, grade), in subject order
    has_details: Mapped[int] = mapped_column(Integer, default=1)  # 0 once its per-indicator points are pruned
    failure: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EvaluationScore(Base):
    """A subject's score and grade in one run; `override` says why the grade is not the score's."""

    __tablename__ = "evaluation_scores"
    __table_args__ = (Index("ix_evaluation_scores_subject_run", "subject_id", "run_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True)  # subjects are never deleted
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    override: Mapped[str | None] = mapped_column(String(200))


class EvaluationPoints(Base):
    """What one indicator gave one subject in one run, and (at most EVIDENCE_CAP of) the records behind it:
    record ids, or list entry ids for indicators that read lists, comma-separated, highest points first."""

    __tablename__ = "evaluation_points"

    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)  # signed: negative for deductions
    hits: Mapped[int] = mapped_column(Integer)  # records that counted
    evidence: Mapped[str | None] = mapped_column(String(400))


class GradeChange(Base):
    """A subject whose grade differs from the previous run's (who moved; the points say why)."""

    __tablename__ = "evaluation_changes"
    __table_args__ = (Index("ix_evaluation_changes_run_to", "run_id", "to_grade"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(primary_key=True)
    previous_run_id: Mapped[int] = mapped_column(Integer)
    from_grade: Mapped[str] = mapped_column(String(8))
    to_grade: Mapped[str] = mapped_column(String(8))
    from_score: Mapped[int] = mapped_column(Integer)
    to_score: Mapped[int] = mapped_column(Integer)
