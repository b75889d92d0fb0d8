"""Fixtures for 信用承诺: the console fixtures (two departments, one account per role), subject accounts signed in
on the portal, commitment files imported through the real pipeline, and the app's day pinned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as rf
from tests.factories.commitments import commitment_row
from tests.fixtures.subject_accounts import (  # noqa: F401  (fixtures)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    portal_sign_in,
    sign_in,
    subject_account,
)

from xinyong.actors import Actor
from xinyong.clock import today as china_today
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.deps import get_today

KEY = "commitment"


@pytest.fixture
def today(app) -> date:  # type: ignore[no-untyped-def]  # noqa: F811
    day = china_today()
    app.dependency_overrides[get_today] = lambda: day
    return day


ImportFile = Callable[..., records_service.ImportResult]


@pytest.fixture
def import_file(db_session: Session, console_settings: Settings, protector: Protector, accounts, today: date,  # type: ignore[no-untyped-def]  # noqa: F811
                tmp_path: Path) -> ImportFile:  # fmt: skip
    """Write rows as a GBK CSV with the Chinese headers and import it as the department's file."""
    counter = iter(range(1, 1000))

    def run(rows: list[dict[str, str]], *, department: Department | None = None, encoding: str = "gbk"
            ) -> records_service.ImportResult:  # fmt: skip
        path = rf.write_rows(tmp_path / f"commitments-{next(counter)}.csv", rows, encoding=encoding)
        return records_service.import_file(db_session, path, settings=console_settings, protector=protector,
                                           record_type=KEY, department=department or accounts.dept_a,
                                           actor=Actor.system("test"), today=today)  # fmt: skip

    return run


def dept_row(dept: Department, made_on: date, **overrides: str) -> dict[str, str]:
    return commitment_row(made_on, **{"承诺受理单位": dept.name, "承诺受理单位统一社会信用代码": dept.code,
                                      "数据来源单位": dept.name, "数据来源单位统一社会信用代码": dept.code,
                                      **overrides})  # fmt: skip


def record_of(db_session: Session, code: str) -> Record:
    return db_session.scalars(select(Record).where(Record.record_type == KEY, Record.doc_no == code)).one()


def days_ago(today: date, n: int) -> date:
    return today - timedelta(days=n)
