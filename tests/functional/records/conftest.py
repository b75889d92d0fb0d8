"""Fixtures for the ingestion tests: import rows through the real pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.factories import records as factories
from tests.factories.records import ON_TIME
from tests.functional.records.helpers import write_xlsx

from xinyong.actors import Actor
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service

Importer = Callable[..., service.ImportResult]
# The documented deadline of a decision of 2025-09-29 (the factories' default): reporting that day is on time.
# The importers run as the platform itself, which may report under an earlier date (migrating history).
SYSTEM = Actor.system("test")
BACKDATE_REASON = "测试：按原始报送日期导入"


@pytest.fixture
def dept(db_session: Session) -> Department:
    return factories.department(db_session)


@pytest.fixture
def import_csv(
    db_session: Session, settings: Settings, protector: Protector, dept: Department, tmp_path: Path
) -> Importer:
    """Write rows to a file (CSV in the given encoding, or XLSX) and import it through `import_file`."""
    counter = iter(range(1, 10_000))

    def run(
        rows: list[dict[str, str]],
        *,
        record_type: str = "penalty",
        encoding: str = "utf-8",
        xlsx: bool = False,
        reported_on: date | None = None,
        today: date = ON_TIME,
        department: Department | None = None,
        settings_: Settings | None = None,
        path: Path | None = None,
    ) -> service.ImportResult:
        if path is None:
            path = tmp_path / f"upload-{next(counter)}.{'xlsx' if xlsx else 'csv'}"
            if xlsx:
                write_xlsx(path, rows)
            else:
                factories.write_rows(path, rows, encoding=encoding)
        return service.import_file(
            db_session, path, settings=settings_ or settings, protector=protector, record_type=record_type,
            department=department or dept, actor=SYSTEM, reported_on=reported_on, backdate_reason=BACKDATE_REASON,
            today=today,
        )  # fmt: skip

    return run


@pytest.fixture
def import_json(db_session: Session, settings: Settings, protector: Protector, dept: Department) -> Importer:
    def run(
        items: list[dict[str, Any]],
        *,
        record_type: str = "penalty",
        reported_on: date | None = None,
        today: date = ON_TIME,
        department: Department | None = None,
        settings_: Settings | None = None,
    ) -> service.ImportResult:
        return service.import_rows(
            db_session, items, settings=settings_ or settings, protector=protector, record_type=record_type,
            department=department or dept, actor=SYSTEM, reported_on=reported_on, backdate_reason=BACKDATE_REASON,
            today=today,
        )  # fmt: skip

    return run
