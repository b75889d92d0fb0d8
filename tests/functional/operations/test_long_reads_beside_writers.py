"""SQLite: what reads the whole register and then writes a little (the 重错码 scan, a national export, an
extract, the audit trail's export, the 信易贷 whitelist, the disclosure sweep) reads before it takes the write lock, so that an import
beside it goes on writing meanwhile instead of waiting for the reading (minutes at scale). Each reading is slowed
here by a second; the other connection must never wait half that long, and each command must still succeed and
record what it did. The console's scan button held the lock for the whole scan before (a synchronous handler's
writer's transaction from its first statement): the other connection waited for all of it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from tests.factories import records as rf
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from tests.functional.web.test_console_beside_writers import (  # noqa: F401  (fixtures)
    Importer,
    _running,
    _sign_in,
    own_app,
    sqlite_app,
)
from typer.testing import CliRunner

from xinyong.audit import service as audit_service
from xinyong.audit.models import AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import make_engine, session_scope
from xinyong.disclosure import service as disclosure_service
from xinyong.exchange import extracts
from xinyong.exchange import service as exchange_service
from xinyong.finance import service as finance_service
from xinyong.jobs import builtin
from xinyong.jobs.registry import JobContext
from xinyong.monitoring import quality
from xinyong.monitoring import service as monitoring_service
from xinyong.protect import protector
from xinyong.records import service as records_service

SLOW = 1.0  # seconds each reading is made to take
MOST = 0.5  # the longest the other connection may wait for the write lock meanwhile


def _slowed(function: Callable[..., Any]) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLOW)
        return function(*args, **kwargs)

    return slow


def _slowed_rows(function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    def slow(*args: Any, **kwargs: Any) -> Iterator[Any]:
        rows = function(*args, **kwargs)
        first = next(rows, None)  # the reading has begun: the transaction is open
        time.sleep(SLOW)
        if first is not None:
            yield first
            yield from rows

    return slow


@pytest.fixture
def shell(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The command line on a database of its own holding a department's penalties; its file's path."""
    url = make_url(fresh_database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    session_factory.cache_clear()
    current = settings()
    engine = make_engine(fresh_database_url)
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = rf.department(session)
        result = records_service.import_rows(session, [rf.penalty_row() for _ in range(5)], settings=current,
                                             protector=protector(current), record_type="penalty", department=dept,
                                             actor="test")  # fmt: skip
        assert result.created == 5
    engine.dispose()
    yield str(url.database)
    session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()


def _audited(path: str, action: AuditAction) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM audit_entries WHERE action = ?", (action.value,)).fetchone()[0]


CASES = {
    "quality-scan": (quality, "_code_many_names", _slowed, ["monitoring", "quality-scan"], "发现",
                     AuditAction.QUALITY_SCANNED),
    "export": (exchange_service, "load_catalog", _slowed, ["exchange", "export", "--out", "{out}"], "已导出 5 条记录",
               AuditAction.EXCHANGE_EXPORTED),
    "extract": (extracts, "_rows", _slowed_rows, ["exchange", "extract", "--out", "{out}", "--class", "public"],
                "已提取", AuditAction.EXCHANGE_EXPORTED),
    "audit-export": (audit_service, "iter_entries", _slowed_rows, ["audit", "export"], "seq,created_at",
                     AuditAction.AUDIT_EXPORTED),
    "whitelist": (finance_service, "whitelist_entries", _slowed, ["finance", "publish-whitelist"], "已发布白名单第 1 版",
                  AuditAction.WHITELIST_PUBLISHED),
    "warnings": (monitoring_service, "compute_month", _slowed, ["monitoring", "warnings"], "新发出预警", None),
    # The sweep: its first reading (the departments' classes), then the scan for the records due.
    "sweep": (disclosure_service, "department_classes", _slowed, ["disclosure", "sweep"], "新停止公示", None),
    "sweep-scan": (disclosure_service, "_as_withdrawals", _slowed_rows, ["disclosure", "sweep"], "新停止公示", None),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_a_command_reads_before_it_takes_the_write_lock(case: str, shell: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    module, name, slowing, args, says, action = CASES[case]
    monkeypatch.setattr(module, name, slowing(getattr(module, name)))
    before = _audited(shell, action) if action else 0
    with Importer(shell) as importer:
        started = _running(importer)
        result = CliRunner().invoke(app, [a.replace("{out}", str(tmp_path / "out")) for a in args])
        assert importer.commits > started
    assert result.exit_code == 0, (result.output, result.exception)
    assert says in result.output
    if action:
        assert _audited(shell, action) == before + 1
    assert importer.longest < MOST, f"the other connection waited {importer.longest:.2f} s for the write lock"


def test_the_warnings_job_reads_before_it_takes_the_write_lock(shell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitoring_service, "compute_month", _slowed(monitoring_service.compute_month))
    ctx = JobContext(settings=settings(), session_factory=session_factory(), now=datetime.now(UTC))
    with Importer(shell) as importer:
        started = _running(importer)
        answer = builtin.monitoring_warnings(ctx)
        assert importer.commits > started
    assert answer.startswith("新发出预警")
    assert importer.longest < MOST, f"the other connection waited {importer.longest:.2f} s for the write lock"


def test_the_consoles_warnings_read_before_they_take_the_write_lock(sqlite_app, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                                                    ) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    client: TestClient
    client, _, path = sqlite_app
    token = _sign_in(client, page="/admin/alerts")
    monkeypatch.setattr(monitoring_service, "compute_month", _slowed(monitoring_service.compute_month))
    with Importer(path) as importer:
        started = _running(importer)
        answer = client.post("/admin/monitoring/warnings", data={"csrf_token": token, "month": ""})
        assert importer.commits > started
    assert answer.status_code == 303, answer.text[:300]
    assert "已按预警规则评估" in client.get(answer.headers["location"]).text
    assert importer.longest < MOST, f"the other connection waited {importer.longest:.2f} s for the write lock"


def test_the_consoles_scan_reads_before_it_takes_the_write_lock(sqlite_app, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                                               ) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    client: TestClient
    client, reader, path = sqlite_app
    token = _sign_in(client, page="/admin/monitoring/quality")
    monkeypatch.setattr(quality, "_code_many_names", _slowed(quality._code_many_names))
    with Importer(path) as importer:
        started = _running(importer)
        answer = client.post("/admin/monitoring/quality/scan", data={"csrf_token": token})
        assert importer.commits > started
    assert answer.status_code == 303, answer.text[:300]
    assert "重错码检查完成" in client.get(answer.headers["location"]).text
    reader.rollback()
    scanned = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == AuditAction.QUALITY_SCANNED.value)
    assert reader.scalar(scanned) == 1
    assert importer.longest < MOST, f"the other connection waited {importer.longest:.2f} s for the write lock"
