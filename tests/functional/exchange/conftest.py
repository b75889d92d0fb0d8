"""Fixtures of the exchange tests: command lines against databases of their own (a platform, and a fresh
platform that receives its export)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.conftest import TEST_KEY
from typer.testing import CliRunner

from xinyong import migrate
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.departments.models import Department
from xinyong.protect import protector
from xinyong.records.models import Record
from xinyong.subjects.models import Subject


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


def _fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if not database_url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / ('p-' + uuid.uuid4().hex[:8] + '.db')}"
        migrate.upgrade(url)
        yield url
        return
    name = "xy_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(make_engine(database_url).url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def make_platform(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Platform]]:
    for name in ("XINYONG_NAME_MISMATCH", "XINYONG_IMPORT_CHUNK_ROWS", "XINYONG_API_BATCH_MAX_ROWS"):
        monkeypatch.delenv(name, raising=False)
    opened: list[Iterator[str]] = []

    def make() -> Platform:
        urls = _fresh_url(database_url, tmp_path)
        opened.append(urls)
        return Platform(next(urls), monkeypatch)

    yield make
    if session_factory.cache_info().currsize:
        session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()
    for urls in opened:
        for _ in urls:  # runs the generator's cleanup
            pass
