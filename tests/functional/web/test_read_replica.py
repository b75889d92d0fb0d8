"""Public reads and the read replica (`XINYONG_READ_DATABASE_URL`): the public portal's and public API's routes read
through the read engine and nothing else, nothing is written through it, and restricted routes stay on the primary.

The "replica" here is the test database itself opened a second time through `db.make_read_engine` (read-only
connections): what is tested is the routing and the refusal of writes. A real streaming replica is started in
tests/functional/db/test_streaming_replica.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from tests.factories import records as f
from tests.fixtures.keys import audit_keys_for_tests

from xinyong.app import create_app
from xinyong.audit import keys as audit_keys
from xinyong.config import Settings
from xinyong.db import ReadOnlyViolation, make_sessionmaker
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects import refs
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_today

TODAY = date(2025, 10, 20)
COMPANY = "安吉县恒达竹木制品有限公司"


def seed(url: str, settings: Settings, protector: Protector) -> tuple[Subject, Record]:
    """One department and one published penalty, committed on the primary."""
    from xinyong.db import make_engine

    engine = make_engine(url)
    factory = audit_keys.attach(make_sessionmaker(engine), audit_keys_for_tests())
    with factory() as session:
        department = f.department(session)
        row = f.penalty_row(CF_XDR_MC=COMPANY, CF_XDR_SHXYM=f.company_code(901), CF_CFLB="罚款")
        result = records_service.import_rows(session, [row], settings=settings, protector=protector,
                                             record_type="penalty", department=department, actor="test",
                                             today=TODAY, reported_on=TODAY)  # fmt: skip
        assert result.rejected == 0, result
        session.commit()
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        subject = session.get(Subject, record.subject_id)
        assert subject is not None
    engine.dispose()
    return subject, record


class Statements:
    """The SQL statements an engine sent, from the moment this was made."""

    def __init__(self, engine: Engine) -> None:
        self.sent: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sent.append(statement.lstrip().split(None, 1)[0].upper())


@pytest.fixture
def replica_settings(settings: Settings, fresh_database_url: str) -> Settings:
    return settings.model_copy(update={"database_url": fresh_database_url, "read_database_url": fresh_database_url,
                                       "portal_rate_limit_requests": 0})  # fmt: skip


@pytest.fixture
def client(replica_settings: Settings) -> Iterator[TestClient]:
    app = create_app(replica_settings)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
    app.state.read_engine.dispose()


def public_paths(subject: Subject, record: Record, protector: Protector) -> list[str]:
    code = subject.uscc
    return [
        "/", "/search?q=恒达", f"/subjects/{refs.subject_ref(subject, protector)}", f"/subjects/{code}",
        f"/records/{refs.record_ref(record.id, protector)}", "/disclosure/penalty", "/disclosure/penalty.csv",
        "/disclosure/license", "/lists", "/lists/public", "/repair", "/scenarios",
        f"/api/v1/subjects?q={code}", "/api/v1/subjects?q=恒达", f"/api/v1/subjects/{code}",
        f"/api/v1/subjects/{code}/records", "/api/v1/scenarios",
    ]  # fmt: skip


def test_public_routes_read_the_replica_and_write_nothing(client: TestClient, replica_settings: Settings,
                                                          protector: Protector) -> None:  # fmt: skip
    subject, record = seed(replica_settings.database_url, replica_settings, protector)
    state = client.app.state  # type: ignore[attr-defined]
    assert state.read_engine is not state.engine
    primary, replica = Statements(state.engine), Statements(state.read_engine)
    for path in public_paths(subject, record, protector):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert COMPANY in client.get("/search?q=恒达").text
    assert client.get(f"/api/v1/subjects/{subject.uscc}/records").json()["total"] == 1
    assert primary.sent == [], "a public page read the primary"
    assert replica.sent, "the public pages did not read the replica"
    assert set(replica.sent) <= {"SELECT", "WITH", "PRAGMA"}, set(replica.sent)


def test_restricted_routes_stay_on_the_primary(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    primary, replica = Statements(state.engine), Statements(state.read_engine)
    # A department's key is looked up (and its use recorded) on the primary, even for a read.
    refused = client.get("/api/v1/batches/1", headers={"Authorization": "Bearer xy_abcdefgh_not-a-secret"})
    assert refused.status_code == 401
    assert primary.sent
    assert replica.sent == []


def test_nothing_can_be_written_through_the_read_side(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    with state.read_session_factory() as session:
        session.add(Department(code=f.OTHER_DEPT_CODE, name="某部门", is_active=True))
        with pytest.raises(ReadOnlyViolation):
            session.flush()
    with state.read_session_factory() as session, pytest.raises(ReadOnlyViolation):
        session.execute(insert(Department).values(code=f.OTHER_DEPT_CODE, name="某部门", is_active=True))
    # Beneath the session, the read engine's connections are read-only themselves.
    with state.read_engine.connect() as connection, pytest.raises(DBAPIError):
        connection.exec_driver_sql("DELETE FROM subjects")


def test_without_the_setting_public_reads_use_the_primary(settings: Settings) -> None:
    app = create_app(settings)
    assert settings.read_database_url is None
    assert app.state.read_engine is app.state.engine
    app.state.engine.dispose()
