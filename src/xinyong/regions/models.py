from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class Region(Base):
    """A region (行政区划) the platform serves. One region has no parent: the platform's own (the city, or the
    county of a single-county install); the others form a tree under it by their GB/T 2260 codes."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    # The host name of the region's own portal (a county's 信用 site), served by this instance.
    host: Mapped[str | None] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegionSetting(Base):
    """A region's choice of file-based reference data (its evaluation model, the commitment templates it
    publishes …), one value per name. A region without a row inherits its nearest ancestor's; a row without a
    region (`region_code` NULL) is the platform's own choice."""

    __tablename__ = "region_settings"
    __table_args__ = (UniqueConstraint("region_code", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
