"""Checkpoints of an import's commits run in a thread of their own (db.BackgroundCheckpointer)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text
from sqlalchemy.orm import Session

from xinyong.db import WAL_AUTOCHECKPOINT_PAGES, BackgroundCheckpointer, make_engine


def _autocheckpoint(session: Session) -> int:
    return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_commits_leave_the_checkpoint_to_the_thread_and_the_pool_gets_the_setting_back(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "checkpoints.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
    session = Session(engine)
    with BackgroundCheckpointer(session) as checkpointer:
        for _ in range(3):
            session.execute(text("INSERT INTO t SELECT randomblob(4000) FROM (SELECT 1 UNION ALL SELECT 2)"))
            checkpointer.before_commit(session)
            assert _autocheckpoint(session) == 0
            session.commit()
            checkpointer.after_commit()
        assert _autocheckpoint(session) == WAL_AUTOCHECKPOINT_PAGES  # a new transaction, a restored connection
        session.commit()
    # The thread has checkpointed the last commit: the rows are in the database file itself, which no commit
    # of the engine's would have done yet (its log holds far fewer pages than WAL_AUTOCHECKPOINT_PAGES).
    assert path.stat().st_size > 6 * 4000
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM t").fetchone()[0] == 6
    session.close()
    engine.dispose()


def test_nothing_happens_on_a_database_in_memory():  # type: ignore[no-untyped-def]
    engine = make_engine("sqlite://")
    session = Session(engine)
    with BackgroundCheckpointer(session) as checkpointer:
        session.execute(text("SELECT 1"))
        checkpointer.before_commit(session)
        assert _autocheckpoint(session) != 0
        session.commit()
        checkpointer.after_commit()
    session.close()
    engine.dispose()
