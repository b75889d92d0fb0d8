"""信易+ scenarios and the count of their uses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, JSONType, UTCDateTime, utcnow


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(200))
    provider_kind: Mapped[str] = mapped_column(String(20))  # department | agency | merchant
    benefit: Mapped[str] = mapped_column(String(500))
    grades: Mapped[list[str]] = mapped_column(JSONType, default=list)  # evaluation grades that qualify
    list_types: Mapped[list[str]] = mapped_column(JSONType, default=list)  # honour lists that qualify
    points_bands: Mapped[list[str]] = mapped_column(JSONType, default=list)  # personal points bands that qualify
    basis: Mapped[str] = mapped_column(Text)  # legal basis or agreement
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScenarioUse(Base):
    """One eligibility check: counted per scenario; who asked and the answer, never the subject's record."""

    __tablename__ = "scenario_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    eligible: Mapped[bool] = mapped_column(Boolean)
    asked_by: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
