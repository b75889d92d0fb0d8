"""Fixtures for evaluation: a department, the built-in list types and model, settings with an upload folder
for repair evidence."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as rf

from xinyong.config import Settings
from xinyong.departments.models import Department

TODAY = date(2025, 10, 20)


@pytest.fixture
def eval_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl"})


@pytest.fixture
def dept(db_session: Session, eval_settings: Settings) -> Department:
    department = rf.department(db_session)
    lf.load_types(db_session, department)
    ef.load_builtin_model(db_session, eval_settings)
    return department
