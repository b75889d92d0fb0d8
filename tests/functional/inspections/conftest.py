"""Fixtures for random inspections: settings, and a graded population (tests/factories/inspections.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.factories.inspections import SYSTEM, TODAY, Graded, build

from xinyong.config import Settings
from xinyong.protect import Protector

__all__ = ["SYSTEM", "TODAY"]


@pytest.fixture
def insp_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl",
                                       "portal_rate_limit_requests": 0})  # fmt: skip


@pytest.fixture
def graded(db_session: Session, insp_settings: Settings, protector: Protector) -> Graded:
    return build(db_session, insp_settings, protector)
