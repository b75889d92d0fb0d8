"""The per-process reference cache: kept for its TTL, dropped by a commit that changed a watched model in this
process, never filled from a transaction that may not commit."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from tests.factories.records import DEPT_CODE
from tests.fixtures.keys import keyed_sessionmaker

from xinyong import refcache
from xinyong.db import make_engine
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department


@pytest.fixture
def engines(fresh_database_url):  # type: ignore[no-untyped-def]
    """Two engines on one database: this process's, and one standing for another server worker."""
    ours, other = make_engine(fresh_database_url), make_engine(fresh_database_url)
    refcache.configure(ours, 60)
    yield ours, other
    ours.dispose()
    other.dispose()


def _names(engine) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with keyed_sessionmaker(engine)() as session:
        return dict(departments_service.names_by_id(session))


def _rename_elsewhere(engine, name: str) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("UPDATE departments SET name = :name"), {"name": name})


def test_kept_for_its_ttl_and_dropped_by_a_change_in_this_process(engines):  # type: ignore[no-untyped-def]
    ours, other = engines
    with keyed_sessionmaker(ours)() as session:
        departments_service.add_department(session, code=DEPT_CODE, name="安吉县市场监督管理局")
        session.commit()
    assert list(_names(ours).values()) == ["安吉县市场监督管理局"]
    _rename_elsewhere(other, "另一个进程改的名称")
    assert list(_names(ours).values()) == ["安吉县市场监督管理局"]  # cached: another process's change waits
    with keyed_sessionmaker(ours)() as session:
        department = session.query(Department).one()
        department.name = "本进程改的名称"
        session.commit()  # a watched model changed here: dropped at once
    assert list(_names(ours).values()) == ["本进程改的名称"]


def test_another_process_change_is_seen_after_the_ttl(engines, manual_clock):  # type: ignore[no-untyped-def]
    ours, other = engines
    refcache.configure(ours, 0.2)
    with keyed_sessionmaker(ours)() as session:
        departments_service.add_department(session, code=DEPT_CODE, name="安吉县市场监督管理局")
        session.commit()
    assert list(_names(ours).values()) == ["安吉县市场监督管理局"]
    _rename_elsewhere(other, "另一个进程改的名称")
    manual_clock.advance(0.1)
    assert list(_names(ours).values()) == ["安吉县市场监督管理局"]  # within the TTL: the cached value
    manual_clock.advance(0.15)
    assert list(_names(ours).values()) == ["另一个进程改的名称"]
    refcache.configure(ours, 0)  # off: every read goes to the database
    _rename_elsewhere(other, "再次改名")
    assert list(_names(ours).values()) == ["再次改名"]


def test_an_uncommitted_change_is_never_shared(engines):  # type: ignore[no-untyped-def]
    ours, _ = engines
    assert _names(ours) == {}
    with keyed_sessionmaker(ours)() as session:
        departments_service.add_department(session, code=DEPT_CODE, name="未提交的部门")
        session.flush()
        assert list(departments_service.names_by_id(session).values()) == ["未提交的部门"]  # its own view
        session.rollback()
    assert _names(ours) == {}


def test_sessions_on_a_callers_connection_keep_their_own_copy(db_session: Session):
    before = departments_service.names_by_id(db_session)
    departments_service.add_department(db_session, code=DEPT_CODE, name="测试事务中的部门")
    db_session.flush()
    after = departments_service.names_by_id(db_session)
    assert "测试事务中的部门" not in before.values()
    assert "测试事务中的部门" in after.values()


def test_a_revoked_key_is_refused_at_once_here_and_within_the_ttl_elsewhere(engines, manual_clock):  # type: ignore[no-untyped-def]
    from xinyong.actors import Permission
    from xinyong.errors import NotAuthenticated

    ours, other = engines
    refcache.configure(ours, 0.3)
    factory = keyed_sessionmaker(ours)
    with factory() as session:
        department = departments_service.add_department(session, code=DEPT_CODE, name="安吉县市场监督管理局")
        _, first = departments_service.issue_api_key(session, department=department, name="一")
        _, second = departments_service.issue_api_key(session, department=department, name="二")
        session.commit()

    def verify(token: str) -> None:
        with factory() as session:
            departments_service.verify_api_key(session, token, scope=Permission.API_RECORDS_WRITE)
            session.commit()

    verify(first)
    verify(second)  # both now cached
    with factory() as session:  # revoked in this process: refused at once
        departments_service.revoke_api_key(session, prefix=first.split("_")[1])
        session.commit()
    with pytest.raises(NotAuthenticated):
        verify(first)
    verify(second)
    with other.begin() as conn:  # revoked by another server process
        conn.execute(text("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE name = '二'"))
    manual_clock.advance(0.2)
    verify(second)  # within the TTL this process still trusts its copy
    manual_clock.advance(0.15)
    with pytest.raises(NotAuthenticated):
        verify(second)
