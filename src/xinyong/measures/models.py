from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class MeasureKind(enum.StrEnum):
    INCENTIVE = "incentive"  # 激励
    SANCTION = "sanction"  # 惩戒

    @property
    def label(self) -> str:
        return "激励" if self is MeasureKind.INCENTIVE else "惩戒"


class MeasureEffect(enum.StrEnum):
    """What the measure tells the department handling the matter; the check's overall hint is the strongest."""

    BLOCK = "block"  # 拦截: the matter cannot proceed (e.g. 限制参加政府采购)
    WARN = "warn"  # 提示: proceed with closer review
    FAST_TRACK = "fast_track"  # 绿色通道: simplified handling (容缺受理, 告知承诺 …)

    @property
    def label(self) -> str:
        return EFFECT_LABELS[self]


EFFECT_LABELS = {MeasureEffect.BLOCK: "拦截", MeasureEffect.WARN: "提示", MeasureEffect.FAST_TRACK: "绿色通道"}


class MeasureStatus(enum.StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return {"current": "现行", "superseded": "已被新版本取代", "retired": "已停用"}[self.value]


class Measure(Base):
    """One version of one measure; rows are never edited except to mark them superseded or retired.
    `region_code` NULL: the platform's own measure, applied everywhere; else a region's own, applied in that
    region and the regions under it (`regions.inherit`)."""

    __tablename__ = "measures"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        Index("ix_measures_matter_status", "matter", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    status: Mapped[MeasureStatus] = mapped_column(_enum(MeasureStatus))
    matter: Mapped[str] = mapped_column(String(40))  # 事项
    content: Mapped[str] = mapped_column(Text)  # 内容
    list_types: Mapped[list[str]] = mapped_column(JSON)  # keys of the list types it applies to
    basis: Mapped[str] = mapped_column(Text)  # 依据
    level: Mapped[str] = mapped_column(String(16))  # 实施层级
    kind: Mapped[MeasureKind] = mapped_column(_enum(MeasureKind))
    effect: Mapped[MeasureEffect] = mapped_column(_enum(MeasureEffect))
    frequency: Mapped[str | None] = mapped_column(String(40))  # 实施频次
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
