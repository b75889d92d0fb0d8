"""Fixtures for credit repair, objections and subject accounts: the console fixtures (two departments, one
account per role), penalties dated relative to today, and verified subject accounts signed in on the portal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as f
from tests.functional.admin.conftest import (  # noqa: F401  (fixtures)
    accounts,
    app,
    client,
    fast_password_hashing,
    sign_in,
)

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount
from xinyong.auth.rules import Actor
from xinyong.clock import today as china_today
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.notify.models import OutboxItem
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.csrf import FORM_COOKIE
from xinyong.web.deps import SUBJECT_COOKIE

SUBJECT_PASSWORD = "Subject-pass-2025"
# Tiny but real files: each passes the content check of its type.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def console_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={
        "portal_rate_limit_requests": 0, "upload_max_bytes": 256 * 1024, "login_rate_limit_attempts": 1000,
        "upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl", "evidence_max_bytes": 64 * 1024,
        "evidence_max_files": 3,
    })  # fmt: skip


@pytest.fixture
def today() -> date:
    return china_today()


Penalty = Callable[..., Record]


@pytest.fixture
def penalty(db_session: Session, console_settings: Settings, protector, accounts, today: date) -> Penalty:  # type: ignore[no-untyped-def]  # noqa: F811
    """One penalty through the real pipeline, decided `days_ago` days before today (default: 一般, eligible)."""

    def make(days_ago: int = 200, department: Department | None = None, **overrides: str) -> Record:
        dept = department or accounts.dept_a
        decided = today - timedelta(days=days_ago)
        row = f.penalty_row(CF_JDRQ=decided.isoformat(), CF_CFJG=dept.name, CF_CFJGDM=dept.code, CF_SJLY=dept.name,
                            CF_SJLYDM=dept.code, **overrides)  # fmt: skip
        result = records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                             record_type="penalty", department=dept, actor="test", today=today)  # fmt: skip
        assert result.rejected == 0, result
        return db_session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()

    return make


def last_code(db_session: Session) -> str:
    item = db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "message")
                              .order_by(OutboxItem.id.desc())).first()  # fmt: skip
    assert item is not None
    return item.payload["body"].split("验证码为 ")[1][:6]


@dataclass
class Portal:
    client: TestClient
    account: SubjectAccount
    csrf: str

    def post(self, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


MakeAccount = Callable[[Record], SubjectAccount]


@pytest.fixture
def subject_account(db_session: Session, console_settings: Settings, protector) -> MakeAccount:  # type: ignore[no-untyped-def]
    """An account for the subject of a record, its contact confirmed and its identity proven (activation code)."""

    def make(record: Record) -> SubjectAccount:
        from xinyong.subjects.models import Subject

        subject = db_session.get(Subject, record.subject_id)
        assert subject is not None
        account = accounts_service.sign_up(db_session, code=subject.uscc or "", name=subject.name,
                                           contact=f"s{subject.id}@example.cn", password=SUBJECT_PASSWORD,
                                           protector=protector, settings=console_settings)  # fmt: skip
        accounts_service.verify(db_session, account_id=account.id, code=last_code(db_session), protector=protector)
        _, code = activation.issue(db_session, subject_id=subject.id, actor=Actor.system("test"), channel="counter",
                                   settings=console_settings, protector=protector)  # fmt: skip
        activation.redeem(db_session, account, code=code, settings=console_settings, protector=protector)
        db_session.commit()
        return account

    return make


@pytest.fixture
def portal_sign_in(client: TestClient, db_session: Session, console_settings: Settings, protector  # type: ignore[no-untyped-def]  # noqa: F811
                   ) -> Callable[[SubjectAccount], Portal]:  # fmt: skip
    def run(account: SubjectAccount) -> Portal:
        from xinyong.subjects.models import Subject

        subject = db_session.get(Subject, account.subject_id)
        assert subject is not None
        row, token = accounts_service.sign_in(db_session, code=subject.uscc or "", password=SUBJECT_PASSWORD,
                                              protector=protector, settings=console_settings, client="test")  # fmt: skip
        db_session.commit()
        client.cookies.clear()
        client.cookies.set(SUBJECT_COOKIE, token)
        return Portal(client, account, row.csrf_token)

    return run


def anonymous_form(test_client: TestClient, token: str = "anonymous-form-token-0123") -> str:
    """The double-submit token of pre-sign-in forms."""
    test_client.cookies.set(FORM_COOKIE, token)
    return token
