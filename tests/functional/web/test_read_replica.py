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

from xinyong import refcache
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
        "/disclosure/license", "/lists", "/lists/public", "/repair", "/scenarios", "/commitments/templates",
        "/reports/verify", "/points/model",
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
        before = len(primary.sent)
        response = client.get(path)
        assert len(primary.sent) == before, path
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


# Pages of the portal that use the primary: signing in and up, a repair's progress, the inspections' notices. They
# are served under every region's portal, and their region is read with them, on the primary.
ACCOUNT_PATHS = ["/account/login", "/account/signup", "/repair/progress", "/inspections"]


def test_the_subjects_own_pages_never_touch_the_replica(client: TestClient) -> None:
    """Each page's region resolved on the replica before: a replica's outage answered 503 to them all."""
    state = client.app.state  # type: ignore[attr-defined]
    replica = Statements(state.read_engine)
    taken: list[object] = []
    event.listen(state.read_engine, "checkout", lambda *args: taken.append(args))
    for path in ACCOUNT_PATHS:
        refcache.clear()  # the region's tree and departments read again, not found in the cache
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert replica.sent == []
    assert taken == []


class Held:
    """How many connections of an engine's pool were checked out at once, at most."""

    def __init__(self, engine: Engine) -> None:
        self.now = self.most = 0
        event.listen(engine, "checkout", self._out)
        event.listen(engine, "checkin", self._in)

    def _out(self, *args: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def _in(self, *args: Any) -> None:
        self.now -= 1


@pytest.mark.parametrize("path", ["/inspections", "/repair/progress", "/search?q=恒达", "/disclosure/penalty"])
def test_a_portal_request_holds_one_connection_at_most(replica_settings: Settings, path: str) -> None:
    """Without a replica both sides share the primary's pool. The region's session was held until the request
    ended, beside the page's own: every subject's page held two connections, and some fifteen at once (the
    pool's size) left requests waiting for one that no request could give back (30 s, then 503)."""
    app = create_app(replica_settings.model_copy(update={"read_database_url": None}))
    held = Held(app.state.engine)
    with TestClient(app) as test_client:
        for _ in range(2):
            refcache.clear()
            response = test_client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
    app.state.engine.dispose()
    assert held.most == 1, held.most
