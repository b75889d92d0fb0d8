"""SQLite: an import goes on while other connections write (a console action, a scheduled job). A chunk's
transaction looks subjects up before it inserts; begun as a plain transaction, its first insert failed at once
with "database is locked" whenever another connection held the write lock at that moment."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tests.factories.records import department, penalty_row
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.records.models import Record

ROWS = 1000


def test_an_import_waits_for_other_writers_instead_of_failing(fresh_database_url: str, settings: Settings) -> None:
    if not fresh_database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    settings = settings.model_copy(update={"import_chunk_rows": 20})
    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    stop = threading.Event()
    holds: list[float] = []  # when the other writer had the lock

    def other_writer() -> None:  # takes the write lock 20 ms in every 30 ms, as busy console users and jobs would
        connection = sqlite3.connect(str(make_url(fresh_database_url).database), isolation_level=None, timeout=30)
        try:
            while not stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                holds.append(time.monotonic())
                time.sleep(0.02)
                connection.execute("ROLLBACK")
                time.sleep(0.01)
        finally:
            connection.close()

    with factory() as session:
        dept = department(session)
        session.commit()
        writer = threading.Thread(target=other_writer)
        writer.start()
        while not holds and writer.is_alive():  # the other writer is writing before the import begins
            time.sleep(0.001)
        started = time.monotonic()
        try:
            result = records_service.import_rows(session, [penalty_row() for _ in range(ROWS)], settings=settings,
                                                 protector=make_protector(settings), record_type="penalty",
                                                 department=dept, actor="test")  # fmt: skip
            ended = time.monotonic()
        finally:
            stop.set()
            writer.join(30)
        session.commit()
        assert result.rejected == 0, result
        assert session.scalar(select(func.count()).select_from(Record)) == ROWS
    # The other writer did take the lock while the import ran (how often depends on the machine's load).
    assert any(started <= held <= ended for held in holds), (started, ended, holds)
    engine.dispose()
