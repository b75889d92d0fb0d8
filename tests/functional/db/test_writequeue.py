"""Writers take turns: threads of one process on a thread lock, server processes on a file lock, and an async
handler waits for its turn in a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from xinyong import writequeue
from xinyong.db import make_engine, make_sessionmaker


@pytest.fixture
def session(fresh_database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(fresh_database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _sqlite_only(session) -> str:  # type: ignore[no-untyped-def]
    path = writequeue._database_file(session)
    if path is None:
        pytest.skip("PostgreSQL locks rows: writers need no turn")
    return path


def test_threads_of_one_process_wait_their_turn(session):  # type: ignore[no-untyped-def]
    _sqlite_only(session)
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with writequeue.turn(session):
            holding.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with writequeue.turn(session):
        order.append("second")
        waited = time.monotonic() - started
    thread.join()
    assert order == ["first done", "second"]
    assert waited >= 0.2


def test_an_async_writer_waits_off_the_event_loop_while_another_process_writes(session):  # type: ignore[no-untyped-def]
    path = _sqlite_only(session)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         f"f = open({path + '-writers'!r}, 'ab'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True)\n"
         "time.sleep(0.6)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    ran_in: list[int] = []

    async def main() -> tuple[float, int]:
        ticks = 0

        async def ticker() -> None:  # keeps running only if the loop is free while the writer waits
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.monotonic()
        await writequeue.run_in_turn(session, lambda: ran_in.append(threading.get_ident()))
        waited = time.monotonic() - started
        task.cancel()
        return waited, ticks

    waited, ticks = asyncio.run(main())
    holder.wait(5)
    assert waited >= 0.3  # it waited for the other process
    assert ticks >= 5  # and the event loop went on meanwhile
    assert ran_in
    assert ran_in[0] != threading.get_ident()


def test_a_free_turn_runs_at_once_on_the_caller(session):  # type: ignore[no-untyped-def]
    ran_in: list[int] = []
    asyncio.run(writequeue.run_in_turn(session, lambda: ran_in.append(threading.get_ident())))
    assert ran_in == [threading.get_ident()]


def test_an_async_writer_waits_off_the_event_loop_for_a_writer_outside_the_turn(session):  # type: ignore[no-untyped-def]
    """An import's chunk holds SQLite's write lock without taking the turn: the async writer finds the turn
    free, tries the lock without waiting, and waits for it in a worker thread; the loop keeps running, and the
    connection keeps its busy timeout for later writers."""
    import sqlite3

    from sqlalchemy import text

    from xinyong import db

    path = _sqlite_only(session)
    session.execute(text("CREATE TABLE IF NOT EXISTS turn_probe (n INTEGER)"))
    session.commit()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    assert db.try_begin_writing(session) is False
    assert not session.in_transaction()
    assert session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    session.rollback()
    threads: list[str] = []

    def work() -> int:
        threads.append(threading.current_thread().name)
        session.execute(text("INSERT INTO turn_probe VALUES (1)"))
        session.commit()
        return 1

    async def main() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        threading.Timer(0.5, lambda: (holder.execute("ROLLBACK"), holder.close())).start()
        result = await writequeue.run_in_turn(session, work)
        ticker.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result == 1
    assert ticks >= 10  # the loop ran while the writer waited for the lock
    assert threads
    assert threads[0] != threading.main_thread().name
    assert session.execute(text("SELECT count(*) FROM turn_probe")).scalar() == 1
