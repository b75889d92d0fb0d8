"""`UnitOfWork.run_as_writer` commits what the request read before it begins the work as a writer's transaction:
a change made before it would be committed there, and kept even if the work then failed. It refuses instead."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as rf

from xinyong.departments.models import Department
from xinyong.web.uow import UnitOfWork


@pytest.fixture
def dept(db_session: Session) -> Department:
    department = rf.department(db_session)
    db_session.commit()
    return department


@pytest.mark.parametrize("flushed", [False, True], ids=["unflushed", "flushed by a query"])
def test_a_change_made_before_the_work_is_refused_not_committed(db_session, dept, flushed) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(None, db_session)  # type: ignore[arg-type]  (the request is not used)
    dept.name = "改名之前未提交"
    if flushed:
        db_session.scalars(select(Department.id)).all()  # a query flushes the change first (autoflush)
        assert not db_session.dirty
    with pytest.raises(RuntimeError, match="changed objects before its work"):
        asyncio.run(uow.run_as_writer(lambda: None))
    db_session.rollback()
    assert db_session.scalars(select(Department.name).where(Department.id == dept.id)).one() != "改名之前未提交"


def test_a_flush_in_a_transaction_already_ended_does_not_count(db_session, dept) -> None:
    uow = UnitOfWork(None, db_session)  # type: ignore[arg-type]
    dept.name = "已提交"
    db_session.flush()
    db_session.commit()
    assert asyncio.run(uow.run_as_writer(lambda: dept.id)) == dept.id


def test_the_work_runs_as_a_writer_and_is_flushed(db_session, dept) -> None:
    uow = UnitOfWork(None, db_session)  # type: ignore[arg-type]

    def work() -> int:
        dept.name = "改名"
        return dept.id

    assert asyncio.run(uow.run_as_writer(work)) == dept.id
    assert not db_session.dirty  # flushed in the work's thread; the route commits
    db_session.commit()
    assert db_session.scalars(select(Department.name).where(Department.id == dept.id)).one() == "改名"
