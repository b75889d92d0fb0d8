"""Fixtures of the exchange tests: command lines against databases of their own (a platform, and a fresh
platform that receives its export)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import catalog as cf
from tests.factories import records as rf
from tests.fixtures.databases import own_database
from tests.fixtures.keys import TEST_KEY
from tests.fixtures.sessions import serve_from
from typer.testing import CliRunner

from xinyong.app import create_app
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.protect import protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_today


class Platform:
    """One platform's database, driven through the `xinyong` command line."""

    def __init__(self, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.url = url
        self._monkeypatch = monkeypatch
        self.runner = CliRunner()

    def _use(self) -> None:
        self._monkeypatch.setenv("XINYONG_DATABASE_URL", self.url)
        self._monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
        if session_factory.cache_info().currsize:
            session_factory().kw["bind"].dispose()
        settings.cache_clear()
        session_factory.cache_clear()

    def run(self, *args: str, ok: bool = True) -> Any:
        self._use()
        result = self.runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def records(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """Every record by (department code, type, 文书号): its content as a receiving platform must hold it."""
        unseal = protector(Settings(secret_key=TEST_KEY)).unseal
        engine = make_engine(self.url)
        try:
            with Session(engine) as session:
                query = (
                    select(Record, Department.code, Subject)
                    .join(Department, Department.id == Record.department_id)
                    .join(Subject, Subject.id == Record.subject_id)
                )
                found = {}
                for record, code, subject in session.execute(query):
                    found[(code, record.record_type, record.doc_no)] = {
                        "payload": record.payload,
                        "sealed": unseal(record.sealed) if record.sealed else None,
                        "status": record.status.value,
                        "revoke_reason": (record.revoke_reason or "").split("（")[0],
                        "subject": (subject.kind.value, subject.name, subject.uscc, subject.id_hash),
                        "subject_name": record.subject_name,
                        "dates": (record.decision_date, record.valid_from, record.valid_until),
                        "publication": (record.tier, record.publish_until, record.categories),
                        "content_hash_len": len(record.content_hash),
                    }
                return found
        finally:
            engine.dispose()


@pytest.fixture
def make_platform(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Platform]]:
    for name in ("XINYONG_NAME_MISMATCH", "XINYONG_IMPORT_CHUNK_ROWS", "XINYONG_API_BATCH_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)
    opened = ExitStack()

    def make() -> Platform:
        return Platform(opened.enter_context(own_database(database_url, tmp_path)), monkeypatch)

    yield make
    if session_factory.cache_info().currsize:
        session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()
    opened.close()


# ------------------------------------------------------------------------------- the feed through HTTP

FEED_TODAY = date(2025, 10, 20)


@pytest.fixture
def feed_settings(settings: Settings, tmp_path: Path) -> Settings:
    directory = cf.write_catalog(tmp_path / "catalog")
    return settings.model_copy(update={"catalog_dirs": (directory,), "portal_rate_limit_requests": 0})


@pytest.fixture
def client(feed_settings: Settings, db_session: Session) -> Iterator[TestClient]:
    application = create_app(feed_settings)

    serve_from(application, db_session)
    application.dependency_overrides[get_today] = lambda: FEED_TODAY
    with TestClient(application) as test_client:
        yield test_client
    application.state.engine.dispose()


@pytest.fixture
def market(db_session: Session) -> Department:
    return rf.department(db_session)


@pytest.fixture
def load(db_session: Session, feed_settings: Settings, protector: Any, market: Department) -> Callable[..., Any]:
    """Ingest rows of one type through the real pipeline (committed: the change log is sequenced)."""

    def run(rows: list[dict[str, str]], record_type: str) -> None:
        result = records_service.import_rows(
            db_session, rows, settings=feed_settings, protector=protector, record_type=record_type,
            department=market, actor="test", today=FEED_TODAY, reported_on=FEED_TODAY,
        )  # fmt: skip
        assert result.rejected == 0

    return run


@pytest.fixture
def feed_key(db_session: Session, market: Department) -> Callable[..., dict[str, str]]:
    def issue(*scopes: str) -> dict[str, str]:
        _row, secret = departments_service.issue_api_key(db_session, department=market, name="合作银行系统",
                                                         scopes=list(scopes))  # fmt: skip
        db_session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return issue
